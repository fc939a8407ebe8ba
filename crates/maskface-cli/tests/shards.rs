//! Runs split over processes: `mask`, `generate` and `augment` with
//! `--shard I/N`, joined by `maskface merge`, give the bytes of one process
//! for N = 1, 2, 4; a shard stopped part-way finishes only what it had not
//! done; a merge before every shard has finished names the ones missing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Stdio;

use common::{command, fails, have_models, ok, split_fixtures_with, tree};

fn assert_same_tree(want: &Path, got: &Path) {
    let (a, b) = (tree(want), tree(got));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{} and {} hold other files",
        want.display(),
        got.display()
    );
    for (name, bytes) in &a {
        assert!(
            b[name] == *bytes,
            "{name} differs between {} and {}",
            want.display(),
            got.display()
        );
    }
}

/// Runs the shards of `args` (a command line with `--out OUT`) at once, as
/// a scheduler would, each `--shard I/N`; all must succeed.
fn run_shards(args: &[&str], n: u32) {
    let children: Vec<_> = (0..n)
        .map(|i| {
            let shard = format!("{i}/{n}");
            let mut all = args.to_vec();
            all.extend(["--shard", &shard]);
            command(&all)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "shard {i}/{n} of {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

const PHOTOS: [&str; 2] = ["fixtures/photos", "fixtures/lfw-mini"];

fn mask_args(out: &str) -> Vec<&str> {
    let mut args = vec!["mask"];
    args.extend(PHOTOS);
    args.extend([
        "--out",
        out,
        "--mask-type",
        "random",
        "--labels",
        "--binary-masks",
        "--coco",
        "--keep-original",
        "--threads",
        "1",
    ]);
    args
}

#[test]
fn mask_shards_merge_to_the_bytes_of_one_process() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let one = path("one");
    ok(&mask_args(&one));
    let report = std::fs::read_to_string(Path::new(&one).join("report.csv")).unwrap();
    assert!(
        report.lines().count() > 20,
        "a row per fixture file:\n{report}"
    );
    assert!(!Path::new(&one).join("shards").exists(), "journals removed");

    for n in [2u32, 4] {
        let out = path(&format!("n{n}"));
        run_shards(&mask_args(&out), n);
        assert!(
            !Path::new(&out).join("report.csv").exists(),
            "shards write no report"
        );
        let merged = ok(&["merge", &out]);
        assert!(merged.contains("masked "), "{merged}");
        assert_same_tree(Path::new(&one), Path::new(&out));
        // Merged: a merge or a shard run again does nothing.
        assert!(ok(&["merge", &out]).contains("already merged"));
        let mut again = mask_args(&out);
        again.extend(["--shard", "1/2"]);
        assert!(ok(&again).contains("already merged"));
    }
}

#[test]
fn a_shard_stopped_part_way_redoes_only_its_missing_files() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let one = path("one");
    ok(&mask_args(&one));

    let out = path("killed");
    run_shards(&mask_args(&out), 3);
    // The state of shard 1 killed after three files, mid-way through the
    // fourth line: its journal cut there, the `done` mark never written.
    let journal = Path::new(&out).join("shards/mask-1-of-3.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 4, "shard 1 has {} files", lines.len());
    let mut cut: String = lines[..3].iter().map(|l| format!("{l}\n")).collect();
    cut.push_str(&lines[3][..lines[3].len() / 2]);
    std::fs::write(&journal, cut).unwrap();
    std::fs::remove_file(journal.with_extension("done")).unwrap();

    let err = fails(&["merge", &out]);
    assert!(err.contains("not finished: 1 of 3"), "{err}");
    let mut args = mask_args(&out);
    args.extend(["--shard", "1/3"]);
    let rerun = ok(&args);
    assert!(
        rerun.contains(&format!("{} items (3 resumed)", lines.len())),
        "{rerun}"
    );
    ok(&["merge", &out]);
    assert_same_tree(Path::new(&one), Path::new(&out));
}

#[test]
fn shards_refuse_overwrite_and_other_options() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o").to_string_lossy().into_owned();
    let err = fails(&[
        "mask",
        "fixtures/photos",
        "--out",
        &out,
        "--shard",
        "0/2",
        "--overwrite",
    ]);
    assert!(err.contains("overwrite"), "{err}");
    let err = fails(&["mask", "fixtures/photos", "--out", &out, "--shard", "2/2"]);
    assert!(err.contains("0 <= I < N"), "{err}");
    let err = fails(&["merge", &out]);
    assert!(
        err.contains("holds no mask, generate or augment run"),
        "{err}"
    );
}

#[test]
fn generate_and_augment_shards_merge_to_the_bytes_of_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    split_fixtures_with(&d, 4, "0.5,0.25,0.25");
    let manifest = format!("{d}/s/manifest.csv");
    let augment = |out: &str| {
        vec![
            "augment".to_string(),
            "--manifest".into(),
            manifest.clone(),
            "--out".into(),
            out.into(),
            "--preview".into(),
            "0".into(),
        ]
    };
    let one = format!("{d}/aug1");
    ok(&augment(&one).iter().map(String::as_str).collect::<Vec<_>>());
    for n in [2u32, 4] {
        let out = format!("{d}/aug{n}");
        let args = augment(&out);
        run_shards(&args.iter().map(String::as_str).collect::<Vec<_>>(), n);
        let err = fails(&["merge", &out]);
        assert!(err.contains("needs --manifest"), "{err}");
        ok(&["merge", &out, "--manifest", &manifest]);
        assert_same_tree(Path::new(&one), Path::new(&out));
    }

    if !have_models() {
        return;
    }
    let generate = |out: &str| {
        vec![
            "generate".to_string(),
            "--manifest".into(),
            manifest.clone(),
            "--out".into(),
            out.into(),
            "--preview".into(),
            "0".into(),
        ]
    };
    let one = format!("{d}/gen1");
    ok(&generate(&one)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    for n in [2u32, 4] {
        let out = format!("{d}/gen{n}");
        let args = generate(&out);
        run_shards(&args.iter().map(String::as_str).collect::<Vec<_>>(), n);
        ok(&["merge", &out, "--manifest", &manifest]);
        assert_same_tree(Path::new(&one), Path::new(&out));
    }
}
