//! Presentation helpers shared by every command: the one percent parser, and output files that
//! appear at their path only when complete (a failure or a kill leaves no partial file).

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Parses a share such as `5%` or `5` (percent, 0..=100).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage such as 5%"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("{s:?} must be between 0% and 100%"));
    }
    Ok(v)
}

/// A file written under a temporary name beside its destination and renamed into place by
/// [`AtomicFile::commit`]; dropped without commit, the temporary file is removed. A special
/// file ([`is_special_file`]: `/dev/null`, a pipe) is written in place.
pub struct AtomicFile {
    tmp: Option<tempfile::NamedTempFile>,
    out: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
}

/// Whether `path` is an existing special file (a device such as `/dev/null`, a FIFO, a
/// socket): written in place, never replaced by a rename (renaming over `/dev/null` as root
/// turns it into a regular file for the whole machine).
pub fn is_special_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
        if is_special_file(path) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            return Ok(AtomicFile {
                tmp: None,
                out: std::io::BufWriter::new(file),
                path: path.to_path_buf(),
            });
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".borderline-")
            .suffix(".partial")
            .tempfile_in(dir)
            .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
        let out = std::io::BufWriter::new(tmp.reopen()?);
        Ok(AtomicFile {
            tmp: Some(tmp),
            out,
            path: path.to_path_buf(),
        })
    }

    /// Flushes and renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        self.out
            .flush()
            .with_context(|| format!("writing {}", self.path.display()))?;
        if let Some(tmp) = self.tmp.take() {
            tmp.persist(&self.path)
                .with_context(|| format!("writing {}", self.path.display()))?;
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Standard output or an [`AtomicFile`].
pub enum Output {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(AtomicFile),
}

impl Output {
    pub fn to(path: Option<&Path>) -> Result<Self> {
        Ok(match path {
            Some(p) => Output::File(AtomicFile::create(p)?),
            None => Output::Stdout(std::io::BufWriter::new(std::io::stdout())),
        })
    }

    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut s) => Ok(s.flush()?),
            Output::File(f) => f.commit(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Stdout(s) => s.write(buf),
            Output::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Stdout(s) => s.flush(),
            Output::File(f) => f.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_parse_with_or_without_sign_and_are_bounded() {
        assert_eq!(parse_percent("5%"), Ok(5.0));
        assert_eq!(parse_percent(" 2.5 % "), Ok(2.5));
        assert!(parse_percent("101%").is_err());
        assert!(parse_percent("-1").is_err());
        assert!(parse_percent("five").is_err());
    }

    #[test]
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("list.csv");
        {
            let mut f = AtomicFile::create(&p).expect("create");
            f.write_all(b"partial").expect("write");
        }
        assert!(!p.exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
        let mut f = AtomicFile::create(&p).expect("create");
        f.write_all(b"done").expect("write");
        f.commit().expect("commit");
        assert_eq!(std::fs::read_to_string(&p).expect("read"), "done");
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
            std::fs::read_dir(dir.path()).expect("dir").count(),
            1,
            "no temporary file left beside it"
        );
        // Checked last: had the fifo been replaced, the reader would wait for ever.
        assert_eq!(reader.join().expect("reader"), "declaration_id,lane\n");
    }
}
