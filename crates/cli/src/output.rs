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
/// [`AtomicFile::commit`]; dropped without commit, the temporary file is removed.
pub struct AtomicFile {
    tmp: Option<tempfile::NamedTempFile>,
    out: std::io::BufWriter<std::fs::File>,
    path: PathBuf,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<Self> {
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
}
