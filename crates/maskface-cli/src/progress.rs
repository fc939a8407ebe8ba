use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use maskface_recognize::DrawProgress;
use maskface_train::Progress;

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn bar(len: usize, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len as u64);
    pb.set_style(bar_style());
    pb.set_message(what.to_string());
    pb
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{msg:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// A spinner for work of unknown length (hidden when stderr is not a terminal).
pub fn spinner(what: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_message(what.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// Runs a [`maskface_recognize::PeopleDraw`] call with a spinner while LFW
/// is scanned and a bar named `what` while the drawn images are masked.
pub fn draw<T>(run: impl FnOnce(&(dyn Fn(DrawProgress) + Sync)) -> T, what: &str) -> T {
    let pb = spinner("scanning");
    let show = |p: DrawProgress| match p {
        DrawProgress::Scanning => {}
        DrawProgress::Masking { total } => {
            pb.disable_steady_tick();
            pb.set_style(bar_style());
            pb.set_message(what.to_string());
            pb.set_length(total as u64);
            pb.set_position(0);
        }
        DrawProgress::Advance(n) => pb.inc(n as u64),
        DrawProgress::Finish => pb.finish_and_clear(),
    };
    let out = run(&show);
    pb.finish_and_clear();
    out
}

/// A training run's progress on `pb`: the feature pass and each epoch's
/// batches on the bar, each finished epoch printed above it (the bar is
/// hidden when stderr is not a terminal; the lines are not).
pub fn training(pb: &ProgressBar) -> impl Fn(&Progress) + Send + Sync + 'static {
    let bar = pb.clone();
    move |p| {
        match p {
        Progress::Features { done, total } => {
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
        }
        Progress::Batch { epoch, done, total, .. } => {
            bar.set_message(format!("epoch {epoch}"));
            bar.set_length(*total as u64);
            bar.set_position(*done as u64);
        }
        Progress::Epoch(m) => bar.suspend(|| {
            println!(
                "epoch {}: train loss {:.4} (accuracy {:.1}%), validation loss {:.4}, accuracy {:.1}% ({:.0} s)",
                m.epoch,
                m.train_loss,
                100.0 * m.train_accuracy,
                m.valid_loss,
                100.0 * m.valid_accuracy,
                m.seconds
            )
        }),
    }
    }
}
