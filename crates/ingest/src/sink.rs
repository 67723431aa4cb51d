//! The one ingest loop every front end uses: rows from a [`DeclarationReader`] go either to the
//! caller (accepted declarations) or to a [`QuarantineSink`] (rows not accepted), and the
//! [`IngestReport`] accounts for both.

use crate::reader::{DeclarationReader, IngestError, IngestReport, QuarantineWriter, Row};
use crate::{Declaration, Quarantined};
use std::path::{Path, PathBuf};

/// Where quarantined rows go.
pub enum QuarantineSink {
    /// A CSV file `<dir>/<input file name>.quarantine.csv`, created on the first quarantined
    /// row only, so a clean input leaves no empty file behind.
    Folder {
        dir: PathBuf,
        writer: Option<Box<QuarantineWriter>>,
    },
    /// Kept in memory (tests, services answering with the rows).
    Memory(Vec<Quarantined>),
}

impl QuarantineSink {
    pub fn folder(dir: impl Into<PathBuf>) -> Self {
        QuarantineSink::Folder {
            dir: dir.into(),
            writer: None,
        }
    }

    pub fn memory() -> Self {
        QuarantineSink::Memory(Vec::new())
    }

    fn put(&mut self, source: &Path, q: Quarantined) -> Result<(), IngestError> {
        match self {
            QuarantineSink::Memory(v) => v.push(q),
            QuarantineSink::Folder { dir, writer } => {
                if writer.is_none() {
                    *writer = Some(Box::new(open_quarantine(source, dir)?));
                }
                if let Some(w) = writer.as_mut() {
                    w.write(&q).map_err(|e| quarantine_error(dir, e))?;
                }
            }
        }
        Ok(())
    }

    /// Flushes the file and returns its path, if any row was quarantined to a folder.
    pub fn finish(&mut self) -> Result<Option<PathBuf>, IngestError> {
        match self {
            QuarantineSink::Memory(_) => Ok(None),
            QuarantineSink::Folder { dir, writer } => match writer.take() {
                None => Ok(None),
                Some(mut w) => {
                    w.flush().map_err(|e| quarantine_error(dir, e))?;
                    Ok(w.path.clone())
                }
            },
        }
    }

    /// The rows kept in memory (none for a folder sink: they are in its file).
    pub fn into_rows(self) -> Vec<Quarantined> {
        match self {
            QuarantineSink::Memory(v) => v,
            QuarantineSink::Folder { .. } => Vec::new(),
        }
    }

    /// The rows kept in memory (empty for a folder sink).
    pub fn rows(&self) -> &[Quarantined] {
        match self {
            QuarantineSink::Memory(v) => v,
            QuarantineSink::Folder { .. } => &[],
        }
    }
}

fn quarantine_error(dir: &Path, source: std::io::Error) -> IngestError {
    IngestError::Unreadable {
        file: format!("quarantine folder {}", dir.display()),
        source,
    }
}

fn open_quarantine(source: &Path, dir: &Path) -> Result<QuarantineWriter, IngestError> {
    std::fs::create_dir_all(dir).map_err(|e| quarantine_error(dir, e))?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "input".into());
    let path = dir.join(format!("{name}.quarantine.csv"));
    QuarantineWriter::create(&path).map_err(|e| quarantine_error(dir, e))
}

/// Drives `reader` to its end: each accepted declaration goes to `accept` (which may fail, e.g.
/// on a write error), each quarantined row to `sink`. Unusable input ends the loop with an
/// error; otherwise returns the file's accounting.
pub fn drive<E: From<IngestError>>(
    mut reader: DeclarationReader,
    source: &Path,
    sink: &mut QuarantineSink,
    mut accept: impl FnMut(Declaration) -> Result<(), E>,
) -> Result<IngestReport, E> {
    for row in reader.by_ref() {
        match row {
            Row::Accepted(d) => accept(d)?,
            Row::Quarantined(q) => sink.put(source, q)?,
        }
    }
    if let Some(e) = reader.take_error() {
        return Err(e.into());
    }
    Ok(reader.report().clone())
}
