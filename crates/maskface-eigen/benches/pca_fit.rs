#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
//! PCA fit on eigenface-sized data: LAPACK's thin SVD (`gesdd`) and the
//! Gram-matrix eigendecomposition (`syevd`) through ndarray-linalg, against
//! nalgebra's SVD of the same matrix.
//!
//! `cargo bench -p maskface-eigen --bench pca_fit`. The matrices are seeded
//! random data of the real sizes: 1,340 training faces of 64x32 (upper
//! halves, 2,048 values) and of 64x64 (whole faces, 4,096 values). nalgebra
//! runs on the first size only (27 s per fit on the second); set
//! `PCA_BENCH_NALGEBRA_FULL=1` to include it.

use criterion::{criterion_group, criterion_main, Criterion};
use maskface_eigen::{Components, Fit, PcaParams, Solver};
use nalgebra::DMatrix;
use ndarray::Array2;
use rand::{Rng, SeedableRng};

fn matrix(n: usize, d: usize) -> Array2<f64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    Array2::from_shape_fn((n, d), |_| rng.random::<f64>())
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pca_fit");
    group.sample_size(10);
    let full = std::env::var("PCA_BENCH_NALGEBRA_FULL").is_ok();
    for (n, d) in [(1340, 2048), (1340, 4096)] {
        let x = matrix(n, d);
        for solver in [Solver::Gram, Solver::Svd] {
            let params = PcaParams::new(Components::Count(100)).solver(solver);
            group.bench_function(
                format!("ndarray_linalg_{solver:?}_{n}x{d}").to_lowercase(),
                |b| b.iter(|| params.fit(&x).unwrap()),
            );
        }
        if d == 2048 || full {
            // The same work: centre, then the thin SVD with right vectors.
            let m = DMatrix::from_row_slice(n, d, x.as_slice().unwrap());
            group.bench_function(format!("nalgebra_svd_{n}x{d}"), |b| {
                b.iter(|| {
                    let mean = m.row_mean();
                    let mut c = m.clone();
                    for mut row in c.row_iter_mut() {
                        row -= &mean;
                    }
                    c.svd(false, true).singular_values.len()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
