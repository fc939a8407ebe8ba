//! What the `maskface` program guarantees when things go wrong: writers of
//! one gallery at the same time, `kill -9` at any moment, a full disk.
//! docs/reliability.md lists each guarantee with the test that holds it.
//!
//! `MASKFACE_KILLS` sets how many seeded kills each command takes (3 here by
//! default, so that CI stays short; `scripts/kill_test.sh` runs 20).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{command, have_models, ok, split_fixtures_with, tree};
use maskface_core::{rng_for, RngCore};

/// The fixtures' photos, one per line of `fixtures/lfw-mini`, sorted.
fn fixture_photos() -> Vec<String> {
    let mut photos: Vec<String> = walk(&common::repo().join("fixtures/lfw-mini"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .map(|p| {
            p.strip_prefix(common::repo())
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    photos.sort();
    photos
}

/// Every file under `dir`, at any depth.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    files
}

/// The temporary files of an interrupted write (`.NAME.PID.tmp`) under `dir`.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".tmp"))
        })
        .collect()
}

/// Asserts that `got` holds the same files as `want`, byte for byte, but
/// for the `volatile` ones (each given with the reason it may differ).
fn assert_same_tree(want: &Path, got: &Path, volatile: &[&str]) {
    let strip = |t: BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        t.into_iter()
            .filter(|(k, _)| !volatile.iter().any(|v| k.ends_with(v)))
            .collect()
    };
    let (want, got) = (strip(tree(want)), strip(tree(got)));
    let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want), "different files");
    for (k, v) in &want {
        assert!(got[k] == *v, "{k} differs from the uninterrupted run's");
    }
}

fn kills() -> usize {
    std::env::var("MASKFACE_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
}

/// Runs `steps` (each one `maskface` command) in order to the end; returns
/// how long that took.
fn run_steps(steps: &[Vec<String>]) -> Duration {
    let start = Instant::now();
    for s in steps {
        let args: Vec<&str> = s.iter().map(String::as_str).collect();
        ok(&args);
    }
    start.elapsed()
}

/// Runs `steps` in order and sends SIGKILL `after` from the start, to
/// whichever command is running then. Returns whether one was killed.
fn run_steps_killed(steps: &[Vec<String>], after: Duration) -> bool {
    let start = Instant::now();
    for s in steps {
        let args: Vec<&str> = s.iter().map(String::as_str).collect();
        let mut child = command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "maskface {args:?} failed on its own");
                break;
            }
            if start.elapsed() >= after {
                child.kill().unwrap(); // SIGKILL on Unix
                child.wait().unwrap();
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    false
}

/// The SIGKILL harness. `prepare(dir)` makes the job's input in a fresh
/// folder and returns it; `steps(input, out)` are the commands of the job,
/// writing under `out`. The job runs once uninterrupted; then, in the same folder
/// after that was moved away, it is started again and again and killed at
/// seeded random moments, and finally run to its end. The outputs must equal
/// the uninterrupted run's byte for byte (but for `volatile` files), with no
/// temporary file left.
fn survives_kills(
    name: &str,
    seed: u64,
    prepare: impl FnOnce(&Path) -> String,
    steps: impl Fn(&str, &str) -> Vec<Vec<String>>,
    volatile: &[&str],
) {
    let dir = tempfile::tempdir().unwrap();
    let input = prepare(dir.path());
    let out = dir.path().join("out");
    let job = steps(&input, out.to_str().unwrap());
    let took = run_steps(&job);
    let reference = dir.path().join("reference");
    std::fs::rename(&out, &reference).unwrap();

    let mut rng = rng_for(seed, name);
    let span = took.as_millis().max(1) as u64;
    let mut interrupted = 0;
    for _ in 0..kills() {
        let after = Duration::from_millis(rng.next_u64() % span);
        if run_steps_killed(&job, after) {
            interrupted += 1;
        } else {
            // The job finished before the kill: start the next one afresh,
            // or every later kill would land on a finished job.
            std::fs::remove_dir_all(&out).unwrap();
        }
    }
    run_steps(&job);
    eprintln!(
        "{name}: {interrupted} of {} kills interrupted it (uninterrupted run {took:?})",
        kills()
    );
    assert!(
        kills() == 0 || interrupted > 0,
        "{name}: no kill landed while it ran"
    );
    assert_eq!(temp_files(&out), Vec::<PathBuf>::new(), "{name}");
    assert_same_tree(&reference, &out, volatile);
}

/// The fixtures split 2/1/1 per person under `d/s`; returns the manifest.
fn split(d: &Path) -> String {
    split_fixtures_with(d.to_str().unwrap(), 4, "0.5,0.25,0.25");
    d.join("s/manifest.csv").to_string_lossy().into_owned()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn generate_resumes_to_the_same_bytes_after_kill_9() {
    if !have_models() {
        return;
    }
    survives_kills(
        "generate",
        1,
        split,
        |manifest, out| {
            vec![args(&[
                "generate",
                "--manifest",
                manifest,
                "--out",
                out,
                "--preview",
                "2",
            ])]
        },
        &[],
    );
}

#[test]
fn augment_resumes_to_the_same_bytes_after_kill_9() {
    survives_kills(
        "augment",
        2,
        split,
        |manifest, out| vec![args(&["augment", "--manifest", manifest, "--out", out])],
        &[],
    );
}

/// Fine-tuning resumes from `last.ckpt`: the killed and resumed run ends
/// with the weights of the uninterrupted one.
#[test]
fn train_resumes_to_the_same_weights_after_kill_9() {
    if !have_models() {
        return;
    }
    survives_kills(
        "train",
        3,
        |d| {
            let s = split(d);
            ok(&[
                "generate",
                "--manifest",
                &s,
                "--out",
                d.join("m").to_str().unwrap(),
                "--variants",
                "masked-chip",
                "--preview",
                "0",
            ]);
            d.join("m/masked_chip/manifest.csv")
                .to_string_lossy()
                .into_owned()
        },
        |chips, out| {
            vec![args(&[
                "train",
                "--train",
                chips,
                "--extra-images",
                "0",
                "--epochs",
                "3",
                "--out",
                out,
            ])]
        },
        // Each records seconds per epoch, as measured (the checkpoint in the
        // history it carries). The weights (best.bpk, last.bpk,
        // embedder.bpk) and the loss chart must be the same bytes.
        &["metrics.csv", "report.json", "last.ckpt"],
    );
}

/// `openset` makes its strangers with `generate`'s code (resumable, in its
/// output folder): killed anywhere, it ends with the uninterrupted run's
/// strangers, scores and report.
#[test]
fn openset_resumes_to_the_same_bytes_after_kill_9() {
    if !have_models() {
        return;
    }
    survives_kills(
        "openset",
        5,
        |d| {
            let s = split(d);
            let dir = |p: &str| d.join(p).to_string_lossy().into_owned();
            ok(&[
                "generate",
                "--manifest",
                &s,
                "--out",
                &dir("m"),
                "--preview",
                "0",
            ]);
            ok(&[
                "eigen",
                "--train",
                &dir("m/masked_upper/manifest.csv"),
                "--out",
                &dir("e"),
                "--components",
                "3",
            ]);
            d.to_string_lossy().into_owned()
        },
        |d, out| {
            vec![args(&[
                "openset",
                "--model",
                &format!("{d}/e/model.json"),
                "--targets",
                &format!("{d}/m/masked_upper/manifest.csv"),
                "--lfw",
                "fixtures/lfw-mini",
                "--strangers",
                "4",
                "--out",
                out,
            ])]
        },
        &[],
    );
}

/// Enrollment of three people, one command each, killed anywhere: running
/// the commands again (enrolling an enrolled photo changes nothing) gives
/// the gallery of an uninterrupted run.
#[test]
fn enroll_resumes_to_the_same_gallery_after_kill_9() {
    if !have_models() {
        return;
    }
    let photos = fixture_photos();
    survives_kills(
        "enroll",
        4,
        |_| String::new(),
        |_, out| {
            let gallery = format!("{out}/gallery.json");
            photos
                .chunks(3)
                .take(3)
                .enumerate()
                .map(|(i, p)| {
                    let mut a = args(&[
                        "enroll",
                        "--gallery",
                        &gallery,
                        "--dlib",
                        "--masked-templates",
                        "1",
                        "--name",
                        &format!("person{i}"),
                    ]);
                    a.extend(p.iter().cloned());
                    a
                })
                .collect()
        },
        &[],
    );
}

/// Eight `enroll` processes started at once on one gallery, one person
/// each: all eight are in it afterwards, and a reader polling the file
/// meanwhile never finds it half-written.
#[test]
fn eight_enrollments_at_once_all_land() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let gallery = dir.path().join("gallery.json");
    let g = gallery.to_str().unwrap();
    let photos = fixture_photos();
    assert!(photos.len() >= 8);
    let mut children: Vec<_> = (0..8)
        .map(|i| {
            command(&[
                "enroll",
                "--gallery",
                g,
                "--dlib",
                "--masked-templates",
                "0",
                "--name",
                &format!("person{i}"),
                &photos[i * photos.len() / 8],
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let mut reads = 0;
    while children.iter_mut().any(|c| c.try_wait().unwrap().is_none()) {
        if let Ok(bytes) = std::fs::read(&gallery) {
            let g: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("a reader saw a half-written gallery: {e}"));
            assert_eq!(g["format"], "maskface-gallery");
            reads += 1;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let g: serde_json::Value = serde_json::from_slice(&std::fs::read(&gallery).unwrap()).unwrap();
    let names: Vec<&str> = g["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let want: Vec<String> = (0..8).map(|i| format!("person{i}")).collect();
    assert_eq!(names, want, "after {reads} reads while they ran");
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

/// A size-limited tmpfs, mounted for one test and unmounted when dropped
/// (also when the test fails).
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `kib` KiB at `path`; `None` where mounting is not
    /// allowed (not root, or a container without the right).
    fn mount(path: &Path, kib: u64) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(path)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk {
            path: path.to_path_buf(),
        })
    }

    fn resize(&self, kib: u64) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.path)
            .status();
    }
}

/// `generate` on a filesystem that fills up stops with an error naming the
/// file it could not write, leaves only whole files, and, once there is
/// room, resumes to the outputs of a run that had room all along.
#[test]
fn generate_on_a_full_disk_stops_cleanly_and_resumes() {
    if !have_models() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let manifest = split(dir.path());
    let m = manifest.as_str();
    let disk = dir.path().join("disk");
    let Some(small) = SmallDisk::mount(&disk, 64 * 1024) else {
        // Only root with the right to mount (CI's machines, as root) can
        // make the small disk; `scripts/kill_test.sh` runs this test too.
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (needs root); the disk-full test did not run"
        );
        return;
    };
    let out = disk.join("out");
    let o = out.to_str().unwrap();
    let job = ["generate", "--manifest", m, "--out", o, "--preview", "2"];
    // The reference run has room, and the same output folder (outputs
    // record their folder).
    ok(&job);
    let reference = dir.path().join("reference");
    let moved = std::process::Command::new("mv")
        .arg(&out)
        .arg(&reference)
        .status()
        .unwrap();
    assert!(moved.success());
    small.resize(256);
    let run = common::maskface(&job);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "fit in 256 KiB: {err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(o), "the error names no file under {o}: {err}");
    assert_eq!(temp_files(&out), Vec::<PathBuf>::new());
    // What is there is whole: every image decodes.
    for p in walk(&out) {
        if p.extension().is_some_and(|e| e == "png" || e == "jpg") {
            image::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
    }

    small.resize(64 * 1024);
    let resumed = ok(&job);
    let kept: usize = resumed
        .split_once('(')
        .and_then(|(_, r)| r.split_once(" resumed"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{resumed}"));
    assert!(
        kept > 0,
        "what was written before the disk filled was redone: {resumed}"
    );
    assert_same_tree(&reference, &out, &[]);
    drop(small);
}
