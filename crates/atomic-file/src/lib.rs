//! Output files that appear at their path only when complete.
//!
//! Every file Borderline writes (score lists, model artefacts, valuation benchmarks, HS models,
//! generated declarations) goes through [`AtomicFile`]: bytes go to a temporary file beside the
//! destination, and [`AtomicFile::commit`] renames it into place. A failure, an early return
//! or a kill before the commit leaves the destination as it was and no temporary file behind
//! (dropping an uncommitted file removes it), so no reader ever sees half a model or half an
//! inspection list.
//!
//! An existing special file — a device such as `/dev/null`, a FIFO, a socket — is written in
//! place instead ([`is_special_file`]): renaming over `/dev/null` as root replaces the
//! machine's `/dev/null` with a regular file. This happened once, through
//! `score --output /dev/null`, and broke every later program that writes to it.
//!
//! Architecture Invariant: this crate knows no Borderline type and depends on nothing of ours;
//! it returns `std::io::Error`, and each caller names the file in its own error type.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Bytes buffered before a write reaches the file.
const BUFFER: usize = 256 * 1024;

/// A file written under a temporary name beside its destination and renamed into place by
/// [`AtomicFile::commit`]; dropped without commit, the temporary file is removed. A special
/// file ([`is_special_file`]) is written in place.
pub struct AtomicFile {
    /// `None` when writing in place into a special file.
    tmp: Option<tempfile::NamedTempFile>,
    out: BufWriter<File>,
    path: PathBuf,
}

/// Whether `path` is an existing special file (a device such as `/dev/null`, a FIFO, a
/// socket): written in place, never replaced by a rename.
pub fn is_special_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

impl AtomicFile {
    /// Starts writing `path`, creating its directory if missing.
    pub fn create(path: &Path) -> io::Result<Self> {
        if is_special_file(path) {
            let file = std::fs::OpenOptions::new().write(true).open(path)?;
            return Ok(AtomicFile {
                tmp: None,
                out: BufWriter::with_capacity(BUFFER, file),
                path: path.to_path_buf(),
            });
        }
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        // Hidden and named for what it is, so a listing of the directory during a long write
        // shows an unfinished file, not a result.
        let tmp = tempfile::Builder::new()
            .prefix(".borderline-")
            .suffix(".partial")
            .tempfile_in(dir)?;
        let out = BufWriter::with_capacity(BUFFER, tmp.reopen()?);
        Ok(AtomicFile {
            tmp: Some(tmp),
            out,
            path: path.to_path_buf(),
        })
    }

    /// The destination.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and renames the file into place (a special file is only flushed).
    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        if let Some(tmp) = self.tmp.take() {
            tmp.persist(&self.path).map_err(|e| e.error)?;
        }
        Ok(())
    }

    /// Writes `path` with `write` and commits it; if `write` fails, nothing appears at `path`
    /// and its error is returned.
    pub fn write_with<E: From<io::Error>>(
        path: &Path,
        write: impl FnOnce(&mut AtomicFile) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut file = AtomicFile::create(path)?;
        write(&mut file)?;
        Ok(file.commit()?)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
