//! Faults around the output dir: `kill -9` at random points, two runs at once, reruns into a
//! used dir, an output dir that is a file, a read-only one and a full disk. The last two need
//! `mount` (root); without it they are skipped with a message.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

const LOCK: &str = ".graphprep.lock";
const MANIFEST: &str = ".graphprep-manifest";

fn conf() -> PathBuf {
    common::repo().join("sample_data/shop/config.json")
}

fn cmd(out: &Path, parts: &str) -> Command {
    let mut c = common::construct_cmd(&conf(), out);
    c.args([
        "--graph-name",
        "shop",
        "--num-parts",
        parts,
        "--part-method",
        "random",
        "--add-reverse-edges",
        "--quiet",
    ]);
    c
}

fn run(out: &Path, parts: &str) -> Output {
    cmd(out, parts).output().unwrap()
}

fn run_ok(out: &Path, parts: &str) {
    let o = run(out, parts);
    assert!(
        o.status.success(),
        "graphprep failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file under `dir` with the timing fields blanked.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    common::files(dir)
        .into_iter()
        .map(|(k, v)| {
            let v = common::without_timings(&k, &v);
            (k, v)
        })
        .collect()
}

/// The snapshot without what a killed run may leave and the next run removes (lock file,
/// staging and spill folders) and without the manifest.
fn graph_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(dir)
        .into_iter()
        .filter(|(k, _)| {
            let top = k.components().next().unwrap().as_os_str().to_string_lossy();
            !top.starts_with(".graphprep")
        })
        .collect()
}

fn assert_same(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>, what: &str) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: different file sets"
    );
    for (k, v) in a {
        assert!(*v == b[k], "{what}: {} differs", k.display());
    }
}

/// Deterministic delays (a small LCG: the test must not depend on scheduling to be reproducible
/// in what it tries, only in when the kill lands).
struct Lcg(u64);
impl Lcg {
    fn next_unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn kill_at_random_points_never_leaves_a_finished_looking_output() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("ref");
    // The duration of an uninterrupted run (the slowest of three, warm caches).
    let mut full = Duration::ZERO;
    for _ in 0..3 {
        let t = Instant::now();
        run_ok(&reference, "2");
        full = full.max(t.elapsed());
    }
    common::read_back(&reference);
    let want = snapshot(&reference);
    let want_graph = graph_files(&reference);
    assert!(want.contains_key(Path::new(MANIFEST)));
    assert!(
        !want.contains_key(Path::new(LOCK)),
        "a finished run removes its lock file"
    );

    let out = tmp.path().join("out");
    let mut rng = Lcg(11);
    let (mut completed, mut interrupted) = (0, 0);
    for i in 0..12 {
        let delay = full.mul_f64(1.3 * rng.next_unit());
        // Every third kill lands in a fresh dir, the others over the state left before.
        if i % 3 == 0 {
            let _ = fs::remove_dir_all(&out);
        }
        let mut child = cmd(&out, "2")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let mut state: Vec<String> = fs::read_dir(&out)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        state.sort();
        eprintln!("kill {i} after {delay:?} (run: {full:?}): {status}; left {state:?}");
        if status.success() {
            completed += 1;
            assert_same(&snapshot(&out), &want, &format!("kill {i}: completed run"));
        } else {
            interrupted += 1;
            // The partition config (the thing DistDGL opens) only ever sits next to the
            // complete output; a killed run leaves either the previous complete state (equal
            // to the reference here) or no partition config.
            if out.join("shop.json").exists() {
                assert_same(
                    &graph_files(&out),
                    &want_graph,
                    &format!("kill {i} after {delay:?}: a partition config is present"),
                );
            }
        }
        // Every other kill is followed by a rerun; the rest leave their state to the next kill.
        if i % 2 == 1 {
            run_ok(&out, "2");
            assert_same(&snapshot(&out), &want, &format!("rerun after kill {i}"));
        }
    }
    run_ok(&out, "2");
    assert_same(&snapshot(&out), &want, "final rerun");
    common::read_back(&out);
    eprintln!("{interrupted} runs killed, {completed} completed before the kill");
}

#[test]
fn a_second_run_fails_at_once_naming_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run_ok(&out, "2");
    let before = snapshot(&out);

    // Another run holds the lock (this test process, as a run would: flock + its pid).
    let lock_path = out.join(LOCK);
    let lock = fs::File::create(&lock_path).unwrap();
    fs::write(&lock_path, "4242\n").unwrap();
    // SAFETY: plain syscall on an open descriptor.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    assert_eq!(rc, 0);
    let t = Instant::now();
    let o = run(&out, "2");
    assert_eq!(o.status.code(), Some(1));
    assert!(t.elapsed() < Duration::from_secs(10), "fails at once");
    let msg = stderr(&o);
    assert!(
        msg.contains(&lock_path.display().to_string()) && msg.contains("pid 4242"),
        "{msg}"
    );
    drop(lock);
    fs::remove_file(&lock_path).unwrap();
    assert_same(&snapshot(&out), &before, "the refused run changed nothing");

    // Real runs racing for one dir: each one either finishes or is refused by the lock, and
    // the result is one complete output.
    let children: Vec<_> = (0..4)
        .map(|_| {
            cmd(&out, "2")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        if !o.status.success() {
            let msg = stderr(&o);
            assert!(msg.contains(LOCK) && msg.contains("in use"), "{msg}");
        }
    }
    assert_same(&snapshot(&out), &before, "after concurrent runs");
}

#[test]
fn rerun_with_fewer_parts_replaces_the_output_and_keeps_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (out, two) = (tmp.path().join("out"), tmp.path().join("two"));
    run_ok(&two, "2");
    run_ok(&out, "3");
    assert!(out.join("part2").is_dir());
    fs::write(out.join("notes.txt"), "not graphprep's").unwrap();
    fs::create_dir(out.join("mine")).unwrap();
    fs::write(out.join("mine/x.json"), "{}").unwrap();
    // Leftovers of a killed run are removed and reported.
    fs::create_dir(out.join(".graphprep-tmp-999999")).unwrap();
    fs::write(out.join(".graphprep-tmp-999999/shop.json"), "half").unwrap();
    fs::create_dir(out.join(".graphprep-spill-999999")).unwrap();
    let o = cmd(&out, "2")
        .arg("--logging-level")
        .arg("info")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(".graphprep-tmp-999999"),
        "leftovers reported: {}",
        stderr(&o)
    );

    let mut want = snapshot(&two);
    want.insert("notes.txt".into(), b"not graphprep's".to_vec());
    want.insert("mine/x.json".into(), b"{}".to_vec());
    assert_same(&snapshot(&out), &want, "rerun with 2 parts over 3");
    common::read_back(&out);

    // Without a manifest (an older graphprep's output) stale entries stay and are named.
    run_ok(&out, "3");
    fs::remove_file(out.join(MANIFEST)).unwrap();
    let o = run(&out, "2");
    assert!(o.status.success(), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(msg.contains("part2") && msg.contains(MANIFEST), "{msg}");
    assert!(out.join("part2").is_dir() && out.join("notes.txt").exists());
}

#[test]
fn output_dir_that_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("out");
    fs::write(&f, "a file").unwrap();
    let o = run(&f, "2");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));
    assert_eq!(fs::read(&f).unwrap(), b"a file");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

/// A tmpfs mounted for one test, unmounted on drop; `None` (with a message) where mounting is
/// not permitted.
struct Mount(PathBuf);
impl Mount {
    fn tmpfs(dir: &Path, opts: &str) -> Option<Mount> {
        fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)");
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }
    fn remount(&self, opts: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(st.success());
    }
}
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_is_a_clear_error_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("small");
    // The output takes about 120 KiB of tmpfs pages.
    let Some(_m) = Mount::tmpfs(&dir, "size=40k") else {
        return;
    };
    let out = dir.join("out");
    let o = run(&out, "2");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(
        !out.exists(),
        "output dir left behind: {:?}",
        snapshot(&out)
    );
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);

    // Into a dir that holds a finished output: that output stays as it was.
    drop(_m);
    let Some(_m) = Mount::tmpfs(&dir, "size=200k") else {
        return;
    };
    run_ok(&out, "1");
    let before = snapshot(&out);
    fs::write(dir.join("filler"), vec![1u8; 60 << 10]).unwrap();
    let o = run(&out, "2");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert_same(
        &snapshot(&out),
        &before,
        "a failed run over a finished output",
    );
}

#[test]
fn read_only_output_dir_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ro");
    let Some(m) = Mount::tmpfs(&dir, "size=1m") else {
        read_only_by_permissions(tmp.path());
        return;
    };
    let out = dir.join("out");
    run_ok(&out, "1");
    fs::write(out.join("notes.txt"), "x").unwrap();
    let before = snapshot(&out);
    m.remount("ro");
    let o = run(&out, "2");
    assert_eq!(o.status.code(), Some(1));
    let msg = stderr(&o);
    assert!(
        msg.contains("Read-only file system") && msg.contains("must be writable"),
        "{msg}"
    );
    assert_same(&snapshot(&out), &before, "read-only dir");
    // A missing output dir under a read-only parent.
    let o = run(&dir.join("new"), "1");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot create the output dir"),
        "{}",
        stderr(&o)
    );
    m.remount("rw");
}

/// Where no tmpfs can be mounted: a folder without write permission (meaningless as root,
/// who bypasses permissions).
fn read_only_by_permissions(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("SKIPPED: root ignores folder permissions and no read-only mount is possible");
        return;
    }
    let out = root.join("perm");
    run_ok(&out, "1");
    let before = snapshot(&out);
    fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).unwrap();
    let o = run(&out, "2");
    fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("must be writable"), "{}", stderr(&o));
    assert_same(&snapshot(&out), &before, "read-only dir");
}
