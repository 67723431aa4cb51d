//! Presentation helpers shared by every command: the one percent parser, and output files that
//! appear at their path only when complete (a failure or a kill leaves no partial file).

use anyhow::{Context, Result};
use borderline_atomic_file::AtomicFile;
use std::io::Write;
use std::path::Path;

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

/// Opens an output file that appears at `path` only when complete (see
/// [`borderline_atomic_file`]); the error names the path.
pub fn create_file(path: &Path) -> Result<AtomicFile> {
    AtomicFile::create(path).with_context(|| format!("opening {} for writing", path.display()))
}

/// Finishes a file of [`create_file`]: flushed and renamed into place; the error names the path.
pub fn commit_file(file: AtomicFile) -> Result<()> {
    let shown = file.path().display().to_string();
    file.commit().with_context(|| format!("writing {shown}"))
}

/// Standard output or an [`AtomicFile`].
pub enum Output {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(AtomicFile),
}

impl Output {
    pub fn to(path: Option<&Path>) -> Result<Self> {
        Ok(match path {
            Some(p) => Output::File(create_file(p)?),
            None => Output::Stdout(std::io::BufWriter::new(std::io::stdout())),
        })
    }

    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut s) => Ok(s.flush()?),
            Output::File(f) => commit_file(f),
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
}
