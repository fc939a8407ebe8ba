use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use maskface_recognize::DrawProgress;

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
