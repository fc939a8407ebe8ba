//! PCA against values computed independently with numpy
//! (`np.linalg.svd` of the centred matrix; components signed so that their
//! largest entry is positive), and its algebraic properties.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use maskface_eigen::{Components, EigenError, Fit, PcaParams, Solver};
use ndarray::{array, Array2};
use proptest::prelude::*;

fn data() -> Array2<f64> {
    array![
        [2.5, 2.4, 0.5, 1.0],
        [0.5, 0.7, 1.5, 2.0],
        [2.2, 2.9, 0.3, 0.8],
        [1.9, 2.2, 0.9, 1.1],
        [3.1, 3.0, 0.2, 0.4],
        [2.3, 2.7, 0.6, 1.2]
    ]
}

fn signed(mut row: Vec<f64>) -> Vec<f64> {
    let j = (0..row.len())
        .max_by(|&a, &b| row[a].abs().total_cmp(&row[b].abs()))
        .unwrap();
    if row[j] < 0.0 {
        row.iter_mut().for_each(|v| *v = -*v);
    }
    row
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < tol, "{a:?} vs {b:?}");
    }
}

#[test]
fn matches_numpy_with_both_solvers() {
    let mean = [
        2.0833333333333335,
        2.3166666666666664,
        0.6666666666666666,
        1.0833333333333335,
    ];
    let var = [
        1.9072118301089112,
        0.0493778835871906,
        0.02239713208263707,
        0.00867982088792645,
    ];
    let ratio = [
        0.9595229733903635,
        0.02484213495917691,
        0.0112680523642313,
        0.0043668392862283,
    ];
    let comps = [
        [
            0.6214214357004899,
            0.6018239084030365,
            -0.33747959539088657,
            -0.3711480906878523,
        ],
        [
            -0.650620070270356,
            0.714502519393231,
            -0.15206278364498593,
            0.20750080426894918,
        ],
    ];
    for solver in [Solver::Svd, Solver::Gram, Solver::Auto] {
        let pca = PcaParams::new(Components::Count(4))
            .solver(solver)
            .fit(&data())
            .unwrap();
        close(pca.mean().as_slice().unwrap(), &mean, 1e-12);
        close(&pca.explained_variance().to_vec(), &var, 1e-10);
        close(&pca.explained_variance_ratio().to_vec(), &ratio, 1e-10);
        for (k, c) in comps.iter().enumerate() {
            close(&signed(pca.components().row(k).to_vec()), c, 1e-8);
        }
        // numpy's projection of the first row, up to the components' signs.
        let p = pca.transform(&data()).unwrap();
        assert!((p[[0, 0]].abs() - 0.3962531973645927).abs() < 1e-8);
        assert!((p[[0, 1]].abs() - 0.20349775574479367).abs() < 1e-8);
    }
}

#[test]
fn components_by_variance_and_whitening() {
    let x = data();
    let pca = PcaParams::new(Components::Variance(0.95)).fit(&x).unwrap();
    assert_eq!(pca.n_components(), 1); // 96.0% in the first
    let pca = PcaParams::new(Components::Variance(0.97)).fit(&x).unwrap();
    assert_eq!(pca.n_components(), 2); // 98.4% in two
    let white = PcaParams::new(Components::Count(3))
        .whiten(true)
        .fit(&x)
        .unwrap();
    let p = white.transform(&x).unwrap();
    for k in 0..3 {
        let col = p.column(k);
        let var = col.dot(&col) / 5.0;
        assert!((var - 1.0).abs() < 1e-9, "component {k}: variance {var}");
    }
    let back = white.inverse_transform(&p).unwrap();
    let full = PcaParams::new(Components::Count(4))
        .whiten(true)
        .fit(&x)
        .unwrap();
    let exact = full
        .inverse_transform(&full.transform(&x).unwrap())
        .unwrap();
    assert!((&exact - &x).iter().all(|d| d.abs() < 1e-10));
    assert!(
        (&back - &x).iter().any(|d| d.abs() > 1e-6),
        "3 of 4 components lose something"
    );
}

#[test]
fn reconstruction_error_falls_with_k() {
    let x = data();
    let mut last = f64::INFINITY;
    for k in 1..=4 {
        let pca = PcaParams::new(Components::Count(k)).fit(&x).unwrap();
        let back = pca.inverse_transform(&pca.transform(&x).unwrap()).unwrap();
        let err: f64 = (&back - &x).iter().map(|d| d * d).sum();
        assert!(err < last, "k={k}: {err} >= {last}");
        last = err;
    }
    assert!(last < 1e-20);
}

#[test]
fn bad_input_is_a_clear_error() {
    let x = data();
    let err = PcaParams::new(Components::Count(7)).fit(&x).unwrap_err();
    assert!(
        err.to_string().contains("7 components asked of 6 samples"),
        "{err}"
    );
    let constant = Array2::from_elem((5, 3), 0.5);
    let err = PcaParams::new(Components::Count(1))
        .fit(&constant)
        .unwrap_err();
    assert!(
        err.to_string().contains("all 5 samples are the same"),
        "{err}"
    );
    let pca = PcaParams::new(Components::Count(2)).fit(&x).unwrap();
    let err = pca.transform(&Array2::zeros((1, 5))).unwrap_err();
    assert!(matches!(err, EigenError::Data(_)) && err.to_string().contains("different image size"));
    assert!(PcaParams::new(Components::Variance(1.5)).fit(&x).is_err());
    assert!(PcaParams::new(Components::Count(0)).fit(&x).is_err());
    assert!(PcaParams::new(Components::Count(1))
        .fit(&Array2::zeros((1, 3)))
        .is_err());
    let mut nan = x.clone();
    nan[[0, 0]] = f64::NAN;
    assert!(PcaParams::new(Components::Count(1)).fit(&nan).is_err());
}

#[test]
fn save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pca.json");
    let pca = PcaParams::new(Components::Count(2)).fit(&data()).unwrap();
    pca.save(&path).unwrap();
    assert_eq!(maskface_eigen::Pca::load(&path).unwrap(), pca);
    std::fs::write(&path, b"{\"mean\": 3").unwrap();
    let err = maskface_eigen::Pca::load(&path).unwrap_err();
    assert!(err.to_string().contains("pca.json"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// Components are orthonormal and Gram and SVD agree, on random data
    /// with more columns than rows and with more rows than columns.
    #[test]
    fn components_are_orthonormal(
        n in 3usize..12, d in 2usize..12, seed in 0u64..10_000,
    ) {
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let x = Array2::from_shape_fn((n, d), |_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        });
        let k = n.min(d) - 1;
        let svd = PcaParams::new(Components::Count(k)).solver(Solver::Svd).fit(&x).unwrap();
        let gram = PcaParams::new(Components::Count(k)).solver(Solver::Gram).fit(&x).unwrap();
        let c = svd.components();
        let eye = c.dot(&c.t());
        for i in 0..c.nrows() {
            for j in 0..c.nrows() {
                let want = if i == j { 1.0 } else { 0.0 };
                prop_assert!((eye[[i, j]] - want).abs() < 1e-9);
            }
        }
        for (a, b) in svd.explained_variance().iter().zip(gram.explained_variance().iter()) {
            prop_assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()));
        }
        // Projections of the training data are uncorrelated.
        let p = svd.transform(&x).unwrap();
        let cov = p.t().dot(&p);
        for i in 0..cov.nrows() {
            for j in 0..cov.ncols() {
                if i != j {
                    prop_assert!(cov[[i, j]].abs() < 1e-8);
                }
            }
        }
    }
}
