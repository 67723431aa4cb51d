//! Reading declaration files: the one place front ends turn a path and a column layout into
//! declarations, with every row accounted for.

use crate::{AppError, Result};
use borderline_core::Declaration;
use borderline_ingest::{
    drive, DeclarationReader, IngestReport, Profile, QuarantineSink, Row, SourceFormat,
};
use std::path::{Path, PathBuf};

/// How to read a declaration file.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub profile: Profile,
    /// Folder for the quarantine file (rows not accepted); `None` keeps them in memory.
    pub quarantine_dir: Option<PathBuf>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, profile: Profile) -> Self {
        Source {
            path: path.into(),
            profile,
            quarantine_dir: None,
        }
    }

    pub fn quarantine_to(mut self, dir: impl Into<PathBuf>) -> Self {
        self.quarantine_dir = Some(dir.into());
        self
    }

    fn sink(&self) -> QuarantineSink {
        match &self.quarantine_dir {
            Some(d) => QuarantineSink::folder(d),
            None => QuarantineSink::memory(),
        }
    }
}

/// A file read completely.
#[derive(Debug)]
pub struct Loaded {
    pub declarations: Vec<Declaration>,
    pub report: IngestReport,
    /// The quarantine file written, if any row was quarantined to a folder.
    pub quarantine_file: Option<PathBuf>,
    /// Quarantined rows kept in memory (when no folder was given).
    pub quarantined: Vec<borderline_ingest::Quarantined>,
}

/// Reads a whole file: accepted declarations in file order, the accounting, and where the
/// quarantined rows went.
pub fn load(source: &Source) -> Result<Loaded> {
    let mut declarations = Vec::new();
    let (report, quarantine_file, quarantined) = stream(source, true, |d| {
        declarations.push(d);
        Ok(())
    })?;
    require_accepted(&report, quarantine_file.as_deref(), &quarantined)?;
    Ok(Loaded {
        declarations,
        report,
        quarantine_file,
        quarantined,
    })
}

/// Reads a file row by row, handing each accepted declaration to `accept` (bounded memory).
/// `duplicate_check` keeps a set of seen ids (quarantining repeats); streams of any size turn it
/// off. Returns the accounting, the quarantine file and any in-memory quarantined rows.
pub fn stream(
    source: &Source,
    duplicate_check: bool,
    accept: impl FnMut(Declaration) -> Result<()>,
) -> Result<(
    IngestReport,
    Option<PathBuf>,
    Vec<borderline_ingest::Quarantined>,
)> {
    let mut reader = DeclarationReader::open(&source.path, source.profile.clone())?;
    if !duplicate_check {
        reader = reader.without_duplicate_check();
    }
    let mut sink = source.sink();
    let report = drive(reader, &source.path, &mut sink, accept)?;
    let file = sink.finish()?;
    Ok((report, file, sink.into_rows()))
}

/// Reads several files with one layout, accounting for each.
pub fn ingest_files(
    paths: &[PathBuf],
    profile: &Profile,
    quarantine_dir: Option<&Path>,
    mut accept: impl FnMut(Declaration) -> Result<()>,
) -> Result<Vec<(IngestReport, Option<PathBuf>)>> {
    let mut out = Vec::new();
    for p in paths {
        let mut source = Source::new(p, profile.clone());
        source.quarantine_dir = quarantine_dir.map(Path::to_path_buf);
        let (report, file, _) = stream(&source, true, &mut accept)?;
        out.push((report, file));
    }
    Ok(out)
}

/// A file whose rows were all quarantined is unusable input, not an empty result: the error
/// says how many rows were read, where they were quarantined (or the first reason), so that
/// nothing is scored, checked or trained on silently from nothing.
pub fn require_accepted(
    report: &IngestReport,
    quarantine_file: Option<&Path>,
    quarantined: &[borderline_ingest::Quarantined],
) -> Result<()> {
    if report.read == 0 || report.accepted > 0 {
        return Ok(());
    }
    let detail = match (quarantine_file, quarantined.first()) {
        (Some(f), _) => format!("; the rows and their reasons are in {}", f.display()),
        (None, Some(q)) => format!("; the first: {q}"),
        (None, None) => String::new(),
    };
    Err(crate::AppError::NothingAccepted {
        file: report.file.clone(),
        read: report.read,
        detail,
    })
}

/// Declarations given as JSON objects keyed by the generic profile's field names (a service
/// request), read through the same row validation as files. The first object that would be
/// quarantined fails the whole request with its index and field: a caller gets every
/// declaration or an answer saying which field to fix.
pub fn from_json_objects(objects: &[serde_json::Value]) -> Result<Vec<Declaration>> {
    let mut text = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        if !o.is_object() {
            return Err(AppError::Field {
                field: format!("[{i}]"),
                problem: "a declaration is a JSON object".into(),
            });
        }
        serde_json::to_writer(&mut text, o).map_err(|e| AppError::Invalid(e.to_string()))?;
        text.push(b'\n');
    }
    if objects.is_empty() {
        return Ok(Vec::new());
    }
    let reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(text)),
        "request",
        SourceFormat::JsonLines,
        Profile::generic(),
    )?;
    let mut out = Vec::with_capacity(objects.len());
    for row in reader {
        match row {
            Row::Accepted(d) => out.push(d),
            Row::Quarantined(q) => {
                return Err(AppError::Field {
                    field: format!("[{}].{}", q.line.saturating_sub(1), q.field),
                    problem: q.reason,
                })
            }
        }
    }
    Ok(out)
}

/// A row of an uploaded file that was not accepted, with the field and why.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct RefusedRow {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// Declarations from CSV text in the generic layout (an upload), read through the same row
/// validation as files: the accepted declarations and the refused rows with their reasons.
pub fn from_csv_bytes(bytes: &[u8]) -> Result<(Vec<Declaration>, Vec<RefusedRow>)> {
    let reader = DeclarationReader::from_reader(
        Box::new(std::io::Cursor::new(bytes.to_vec())),
        "upload",
        SourceFormat::Csv,
        Profile::generic(),
    )?;
    let (mut ok, mut refused) = (Vec::new(), Vec::new());
    for row in reader {
        match row {
            Row::Accepted(d) => ok.push(d),
            Row::Quarantined(q) => refused.push(RefusedRow {
                line: q.line,
                field: q.field,
                reason: q.reason,
            }),
        }
    }
    Ok((ok, refused))
}
