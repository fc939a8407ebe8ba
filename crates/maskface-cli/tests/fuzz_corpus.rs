//! The fuzz corpus replayed on the stable toolchain: every file of
//! `fuzz/corpus/<reader>/` and `fuzz/regressions/<reader>/` through its
//! reader (the same code the fuzz targets run, `fuzz/src/readers.rs`),
//! which must answer `Ok` or a clear `Err`, never panic, and keep every
//! single allocation within the allocation rule
//! ([`readers::Reader::allocation_bound`]: 64 bytes per input byte plus
//! 4 MiB). See `fuzz/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/src/readers.rs"]
#[allow(dead_code)]
mod readers;

use std::path::{Path, PathBuf};

use accounting_allocator::AccountingAlloc;
use readers::Reader;

/// Counts the largest single allocation, across threads.
#[global_allocator]
static ALLOC: AccountingAlloc = AccountingAlloc::new();

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_reader_survives_its_corpus_within_the_allocation_rule() {
    // The check itself sees an allocation over a bound.
    ALLOC.count();
    let big = std::hint::black_box(vec![1u8; 64 << 20]);
    assert!(ALLOC.count().since_last.largest_alloc >= big.len());
    assert!(Reader::Gallery.allocation_bound(1000) < big.len());
    drop(big);
    let scratch = tempfile::tempdir().unwrap();
    // Warm up what every reader builds once per process (burn's device and
    // thread pool), so that it does not count against the first file.
    let _ = Reader::TorchPt.run(b"", scratch.path());
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    for reader in Reader::ALL {
        let corpus = files(&fuzz_dir().join("corpus").join(reader.name()));
        let regressions = files(&fuzz_dir().join("regressions").join(reader.name()));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{} is empty or missing: the replay would check nothing",
            reader.name()
        );
        let (mut ok, mut refused) = (0, 0);
        for path in corpus.iter().chain(&regressions) {
            let data = std::fs::read(path).unwrap();
            ALLOC.count();
            let result = std::panic::catch_unwind(|| reader.run(&data, scratch.path()));
            let largest = ALLOC.count().since_last.largest_alloc;
            let bound = reader.allocation_bound(data.len());
            match result {
                Ok(Ok(())) => ok += 1,
                Ok(Err(message)) => {
                    refused += 1;
                    if message.trim().is_empty() {
                        failures.push(format!("{}: an empty error", path.display()));
                    }
                }
                Err(_) => failures.push(format!("{}: panicked", path.display())),
            }
            if largest > bound {
                failures.push(format!(
                    "{}: an allocation of {largest} bytes for {} bytes (bound {bound})",
                    path.display(),
                    data.len()
                ));
            }
        }
        summary.push(format!(
            "{}: {} files ({} regressions), {ok} read, {refused} refused",
            reader.name(),
            corpus.len() + regressions.len(),
            regressions.len()
        ));
    }
    eprintln!("{}", summary.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Writes `fuzz/corpus/checkpoint/seed_linear.ckpt`: the `last.ckpt` of a
/// one-epoch training of a tiny network (run with `--ignored` to
/// regenerate it; `fuzz/make_seeds.py` writes the other seeds).
#[test]
#[ignore = "writes a seed of the fuzz corpus"]
fn write_checkpoint_seed() {
    use maskface_train::burn;
    use maskface_train::burn::prelude::*;
    use maskface_train::{
        Backbone, BackboneWithHead, MarginHeadConfig, MarginLoss, TensorBatcher, TensorSet,
        TrainConfig, Trainer,
    };

    #[derive(Module, Debug)]
    struct Linear2 {
        inner: burn::nn::Linear,
    }

    impl Backbone for Linear2 {
        fn embed(&self, x: Tensor<4>) -> Tensor<2> {
            let [n, c, h, w] = x.dims();
            self.inner.forward(x.reshape([n, c * h * w]))
        }
    }

    let mut set = TensorSet::new([2, 1, 1]);
    for k in 0..4u32 {
        let class = k % 2;
        set.extend(&[class as f32, 1.0 - class as f32], &[class])
            .unwrap();
    }
    let device = Device::flex();
    let model = BackboneWithHead {
        backbone: Linear2 {
            inner: burn::nn::LinearConfig::new(2, 2).init(&device),
        },
        head: MarginHeadConfig::new(2, 2)
            .with_loss(MarginLoss::Softmax)
            .init(&device),
    };
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig::new()
        .with_epochs(1)
        .with_batch_size(2)
        .with_seed(1);
    Trainer::new(config, dir.path())
        .fit(
            model,
            &set,
            &set,
            &TensorBatcher { shape: [2, 1, 1] },
            &device,
        )
        .unwrap();
    let out = fuzz_dir().join("corpus/checkpoint");
    std::fs::create_dir_all(&out).unwrap();
    let bytes = std::fs::read(dir.path().join("last.ckpt")).unwrap();
    maskface_train::check_checkpoint(&bytes, Path::new("last.ckpt")).unwrap();
    std::fs::write(out.join("seed_linear.ckpt"), bytes).unwrap();
}
