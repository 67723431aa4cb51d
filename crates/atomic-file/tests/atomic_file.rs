//! What a reader of an output path can see: the old file or the whole new one, never a part;
//! and a device or pipe given as the output stays what it was.

use borderline_atomic_file::{is_special_file, AtomicFile};
use std::io::Write;

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn an_uncommitted_file_leaves_nothing_behind_and_a_committed_one_appears_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("list.csv");
    {
        let mut f = AtomicFile::create(&p).expect("create");
        f.write_all(b"partial").expect("write");
        assert!(!p.exists(), "nothing at the destination before the commit");
    }
    assert!(
        entries(dir.path()).is_empty(),
        "dropped: no temporary file left"
    );
    let mut f = AtomicFile::create(&p).expect("create");
    f.write_all(b"done").expect("write");
    f.commit().expect("commit");
    assert_eq!(std::fs::read_to_string(&p).expect("read"), "done");
    assert_eq!(entries(dir.path()), vec!["list.csv".to_string()]);
}

#[test]
fn a_failed_write_keeps_the_previous_file_and_leaves_no_partial_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("model.json.gz");
    std::fs::write(&p, "previous model").expect("seed");
    let result: Result<(), std::io::Error> = AtomicFile::write_with(&p, |f| {
        f.write_all(b"half a mod")?;
        Err(std::io::Error::other("disk full"))
    });
    assert_eq!(
        result.expect_err("the error comes back").to_string(),
        "disk full"
    );
    assert_eq!(std::fs::read_to_string(&p).expect("read"), "previous model");
    assert_eq!(entries(dir.path()), vec!["model.json.gz".to_string()]);
}

#[test]
fn a_missing_directory_is_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("out/run-1/list.csv");
    AtomicFile::write_with(&p, |f| f.write_all(b"x")).expect("write");
    assert_eq!(std::fs::read_to_string(&p).expect("read"), "x");
}

/// Output to a pipe or a device goes into it: the path stays what it was (a rename over
/// `/dev/null` once replaced the machine's `/dev/null` with a regular file).
#[test]
fn output_to_a_fifo_is_written_into_it_and_the_fifo_stays() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("out.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    assert!(is_special_file(&fifo));
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut got = String::new();
            use std::io::Read;
            std::fs::File::open(fifo)
                .and_then(|mut f| f.read_to_string(&mut got))
                .expect("read the fifo");
            got
        })
    };
    let mut out = AtomicFile::create(&fifo).expect("open the fifo");
    out.write_all(b"declaration_id,lane\n").expect("write");
    out.commit().expect("commit");
    let kind = std::fs::metadata(&fifo).expect("still there").file_type();
    assert!(
        std::os::unix::fs::FileTypeExt::is_fifo(&kind),
        "the fifo was replaced: {kind:?}"
    );
    assert_eq!(
        entries(dir.path()),
        vec!["out.fifo".to_string()],
        "no temporary file beside it"
    );
    // Checked last: had the fifo been replaced, the reader would wait for ever.
    assert_eq!(reader.join().expect("reader"), "declaration_id,lane\n");
}

#[test]
fn regular_files_and_missing_paths_are_not_special() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a.csv");
    assert!(!is_special_file(&p));
    std::fs::write(&p, "x").expect("write");
    assert!(!is_special_file(&p));
    assert!(!is_special_file(dir.path()));
    assert!(is_special_file(std::path::Path::new("/dev/null")));
}
