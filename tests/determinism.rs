//! Same input + same `--seed` ⇒ byte-identical output files, at 1 and 2 threads.

use std::path::Path;

mod common;

fn build(conf: &Path, out: &Path, threads: &str, extra: &[&str]) {
    let mut args = vec!["--threads", threads, "--seed", "7"];
    args.extend_from_slice(extra);
    common::construct(conf, out, &args);
}

fn assert_same(extra: &[&str]) {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/shop/config.json");
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t2"));
    build(&conf, &a, "1", extra);
    build(&conf, &b, "2", extra);
    let (fa, fb) = (common::files(&a), common::files(&b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "{extra:?}: different file sets"
    );
    for (k, v) in &fa {
        let (v, w) = (
            common::without_timings(k, v),
            common::without_timings(k, &fb[k]),
        );
        assert!(
            v == w,
            "{extra:?}: {} differs between 1 and 2 threads",
            k.display()
        );
    }
    assert!(fa.len() > 5);
}

#[test]
fn identical_at_one_and_two_threads() {
    assert_same(&[]);
    assert_same(&[
        "--num-parts",
        "3",
        "--part-method",
        "metis",
        "--add-reverse-edges",
    ]);
    assert_same(&[
        "--num-parts",
        "2",
        "--part-method",
        "random",
        "--output-format",
        "DGL",
        "DistDGL",
    ]);
}
