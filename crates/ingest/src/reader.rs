use crate::profile::ValueFormats;
use crate::seen::SeenIds;
use crate::{Field, Profile};
use borderline_core::{Declaration, HsCode, InspectionOutcome, Text};
use chrono::NaiveDate;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Input that cannot be ingested at all. Row-level problems are never errors: they are
/// [`Quarantined`] rows.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {file}: {source}")]
    Unreadable {
        file: String,
        source: std::io::Error,
    },
    #[error("{file} is empty: expected a header row (CSV) or one JSON object per line")]
    Empty { file: String },
    #[error(
        "{file}: missing required column(s) {missing} for profile {profile:?}; the header has: {header}{hint}"
    )]
    MissingColumns {
        file: String,
        profile: String,
        missing: String,
        /// The header as read, bounded to [`QUOTE_LIMIT`] characters.
        header: String,
        /// Empty, or a suggestion starting with "; " (e.g. the header is the generic layout).
        hint: String,
    },
    #[error("{file}: header row is not valid UTF-8")]
    HeaderEncoding { file: String },
    #[error("{file}, line {line}: read failed: {message}")]
    Read {
        file: String,
        line: u64,
        message: String,
    },
}

/// At most this many characters of offending input are quoted in a message, so a 50 MB line
/// without a newline does not end up in a terminal or a log.
pub const QUOTE_LIMIT: usize = 200;

/// `text` if it is at most [`QUOTE_LIMIT`] characters, else its first [`QUOTE_LIMIT`] characters
/// followed by how much was left out.
pub fn bounded(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}... ({} more bytes)", &text[..cut], text.len() - cut),
    }
}

/// `text` quoted as a Rust-style string literal, bounded like [`bounded`].
fn quoted(text: &str) -> String {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => format!("{text:?}"),
        Some((cut, _)) => format!("{:?}... ({} more bytes)", &text[..cut], text.len() - cut),
    }
}

/// Whether a header looks like the documented generic layout (every required field under its
/// generic name), used to suggest `--profile generic` when another profile was used.
fn looks_generic(names: &[String]) -> bool {
    Field::ALL
        .iter()
        .filter(|f| f.is_required())
        .all(|f| names.iter().any(|n| n == f.name()))
}

/// A row that was not accepted, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    pub file: String,
    /// 1-based physical line where the row starts.
    pub line: u64,
    /// The declaration field (or `row` for whole-row problems).
    pub field: String,
    pub reason: String,
    /// The row as read, for the analyst fixing it (lossy UTF-8).
    pub raw: String,
}

impl fmt::Display for Quarantined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, line {}, field {}: {}",
            self.file, self.line, self.field, self.reason
        )
    }
}

/// One ingested row.
#[derive(Debug, Clone, PartialEq)]
// A declaration is moved out by value: boxing it cost a heap allocation and a free per row
// (about 8 % of ingest), more than moving the larger enum.
#[allow(clippy::large_enum_variant)]
pub enum Row {
    Accepted(Declaration),
    Quarantined(Quarantined),
}

/// The accounting of one ingest: every data row read is either accepted or quarantined.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestReport {
    pub file: String,
    pub read: u64,
    pub accepted: u64,
    pub quarantined: u64,
    /// Rows quarantined because their declaration id was already seen in this file.
    pub duplicate_ids: u64,
    /// Quarantine counts per field.
    pub quarantined_by_field: std::collections::BTreeMap<String, u64>,
}

impl IngestReport {
    pub fn balanced(&self) -> bool {
        self.read == self.accepted + self.quarantined
    }
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: read {} = accepted {} + quarantined {}",
            self.file, self.read, self.accepted, self.quarantined
        )?;
        if self.duplicate_ids > 0 {
            write!(f, " ({} duplicate declaration ids)", self.duplicate_ids)?;
        }
        if !self.quarantined_by_field.is_empty() {
            let parts: Vec<String> = self
                .quarantined_by_field
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            write!(f, "; quarantined by field: {}", parts.join(", "))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Csv,
    JsonLines,
}

impl SourceFormat {
    /// From the file name, ignoring a trailing `.gz`: `.jsonl`, `.ndjson` and `.json` are JSON
    /// Lines, anything else CSV.
    pub fn from_path(path: &Path) -> SourceFormat {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json") {
            SourceFormat::JsonLines
        } else {
            SourceFormat::Csv
        }
    }
}

#[allow(clippy::large_enum_variant)] // one per reader, never moved in a hot loop
enum Source {
    Csv {
        reader: csv::Reader<Box<dyn Read>>,
        /// Source column index per field (indexed by `Field as usize`).
        columns: [Option<usize>; Field::ALL.len()],
        /// The profile's constant per field without a column (indexed like `columns`).
        defaults: [Option<String>; Field::ALL.len()],
        width: usize,
        /// Records read ahead of the row being built, with the line each starts on: the ids
        /// of a batch are probed for duplicates together (see [`read_ahead`]).
        ahead: std::collections::VecDeque<(csv::ByteRecord, u64)>,
        /// Buffers of records already built, reused for the next reads (no allocation per
        /// row).
        spare: Vec<csv::ByteRecord>,
        /// Hashes of the ids of the batch read ahead (reused buffer).
        hashes: Vec<u64>,
        /// How the input ended, if it has: reported once the rows read before it are out.
        end: End,
    },
    Json {
        lines: Box<dyn BufRead>,
        line: u64,
        buf: Vec<u8>,
    },
}

/// How many CSV records are read ahead of the row being built. Their ids' slots in the
/// duplicate table are loaded together, so the batch pays about one memory latency instead of
/// one per row; rows still come out one at a time and in file order.
const AHEAD: usize = 16;

/// Where a CSV input stands once records have been read ahead of the rows handed out.
enum End {
    /// More records may follow.
    Open,
    /// The input ended cleanly.
    Done,
    /// Reading failed after the records already read ahead: reported (by
    /// [`DeclarationReader::take_error`]) once they are out.
    Failed(IngestError),
}

/// Reads up to [`AHEAD`] records into `ahead` (buffers from `spare`), each with the line it
/// starts on; then, when ids are checked for duplicates (`ids`: the table and the id column),
/// loads the table slots of all their ids at once. Returns how the input stands.
fn read_ahead(
    reader: &mut csv::Reader<Box<dyn Read>>,
    ahead: &mut std::collections::VecDeque<(csv::ByteRecord, u64)>,
    spare: &mut Vec<csv::ByteRecord>,
    hashes: &mut Vec<u64>,
    ids: Option<(&SeenIds, usize)>,
    file: &str,
) -> End {
    let mut end = End::Open;
    while ahead.len() < AHEAD {
        let mut record = spare.pop().unwrap_or_default();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {
                let line = record
                    .position()
                    .map(|p| p.line())
                    .unwrap_or_else(|| reader.position().line());
                ahead.push_back((record, line));
            }
            Ok(false) => {
                spare.push(record);
                end = End::Done;
                break;
            }
            Err(e) => {
                // I/O errors (e.g. a truncated gzip member) carry no position: the reader's
                // own position is the start of the record it failed to read.
                let line = e
                    .position()
                    .map(|p| p.line())
                    .unwrap_or_else(|| reader.position().line());
                spare.push(record);
                end = End::Failed(IngestError::Read {
                    file: file.to_string(),
                    line,
                    message: e.to_string(),
                });
                break;
            }
        }
    }
    if let Some((seen, column)) = ids {
        hashes.clear();
        for (record, _) in ahead.iter() {
            // The id as the row will be built with it (trimmed); a record whose id is not
            // UTF-8 is quarantined before its id is checked.
            if let Some(Ok(id)) = record.get(column).map(std::str::from_utf8) {
                hashes.push(seen.hash(trim(id)));
            }
        }
        seen.touch(hashes);
    }
    end
}

/// Streams declarations from one file. Iterate it for [`Row`]s; [`DeclarationReader::report`]
/// then gives the accounting.
pub struct DeclarationReader {
    source: Source,
    profile: Profile,
    ledger: Ledger,
    failed: Option<IngestError>,
}

/// Opens a file, looking through gzip compression by its magic bytes.
fn open_maybe_gzip(path: &Path) -> Result<Box<dyn Read>, IngestError> {
    let unreadable = |source| IngestError::Unreadable {
        file: path.display().to_string(),
        source,
    };
    let file = File::open(path).map_err(unreadable)?;
    let mut buffered = BufReader::with_capacity(1 << 16, file);
    let is_gzip = buffered
        .fill_buf()
        .map_err(unreadable)?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if is_gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    })
}

impl DeclarationReader {
    /// Opens `path` (CSV or JSON Lines by extension, gzip by content) with `profile`.
    pub fn open(path: impl AsRef<Path>, profile: Profile) -> Result<Self, IngestError> {
        let path = path.as_ref();
        let input = open_maybe_gzip(path)?;
        Self::from_reader(
            input,
            &path.display().to_string(),
            SourceFormat::from_path(path),
            profile,
        )
    }

    /// Reads from any byte stream; `file` names it in messages.
    pub fn from_reader(
        mut input: Box<dyn Read>,
        file: &str,
        format: SourceFormat,
        profile: Profile,
    ) -> Result<Self, IngestError> {
        let file = file.to_string();
        // Peek one byte to tell an empty input from a header-only one.
        let mut first = [0u8; 1];
        let n =
            read_retrying(&mut input, &mut first).map_err(|source| IngestError::Unreadable {
                file: file.clone(),
                source,
            })?;
        if n == 0 {
            return Err(IngestError::Empty { file });
        }
        let mut input: Box<dyn Read> = Box::new(std::io::Cursor::new(first).chain(input));
        let source = match format {
            SourceFormat::Csv => {
                let delimiter = match profile.delimiter {
                    Some(d) => d,
                    None => {
                        // The header line, looked at once to tell a `;` or tab file from a
                        // comma one; then read again through csv.
                        let mut head = Vec::new();
                        let mut byte = [0u8; 1];
                        while head.len() < HEADER_PEEK
                            && read_retrying(&mut input, &mut byte).map_err(|source| {
                                IngestError::Unreadable {
                                    file: file.clone(),
                                    source,
                                }
                            })? == 1
                        {
                            head.push(byte[0]);
                            if byte[0] == b'\n' {
                                break;
                            }
                        }
                        let d = header_delimiter(&head);
                        input = Box::new(std::io::Cursor::new(head).chain(input));
                        d
                    }
                };
                // As large as the buffer under it, so reads go straight into csv's buffer.
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .buffer_capacity(1 << 16)
                    .flexible(true)
                    .has_headers(true)
                    .from_reader(input);
                let header = reader
                    .byte_headers()
                    .map_err(|e| IngestError::Read {
                        file: file.clone(),
                        line: 1,
                        message: e.to_string(),
                    })?
                    .clone();
                let mut names = Vec::with_capacity(header.len());
                for (i, h) in header.iter().enumerate() {
                    let h = std::str::from_utf8(h)
                        .map_err(|_| IngestError::HeaderEncoding { file: file.clone() })?;
                    // A UTF-8 byte-order mark may precede the first column name.
                    let h = if i == 0 {
                        h.trim_start_matches('\u{feff}')
                    } else {
                        h
                    };
                    names.push(h.trim().to_string());
                }
                let mut columns = [None; Field::ALL.len()];
                let mut missing = Vec::new();
                for (field, column) in &profile.columns {
                    match names.iter().position(|n| n == column) {
                        Some(i) => columns[*field as usize] = Some(i),
                        None if field.is_required() && !profile.defaults.contains_key(field) => {
                            missing.push(format!("{column:?} ({field})"))
                        }
                        None => {}
                    }
                }
                for field in Field::ALL {
                    if field.is_required()
                        && !profile.columns.contains_key(&field)
                        && !profile.defaults.contains_key(&field)
                    {
                        missing.push(format!("(unmapped) ({field})"));
                    }
                }
                if !missing.is_empty() {
                    let hint = if profile.name != "generic" && looks_generic(&names) {
                        "; the header matches the generic layout: use --profile generic".to_string()
                    } else {
                        String::new()
                    };
                    return Err(IngestError::MissingColumns {
                        file,
                        profile: profile.name.clone(),
                        missing: missing.join(", "),
                        header: bounded(&names.join(", ")),
                        hint,
                    });
                }
                Source::Csv {
                    reader,
                    columns,
                    defaults: std::array::from_fn(|i| {
                        profile.defaults.get(&Field::ALL[i]).cloned()
                    }),
                    width: names.len(),
                    ahead: std::collections::VecDeque::with_capacity(AHEAD),
                    spare: Vec::with_capacity(AHEAD),
                    hashes: Vec::with_capacity(AHEAD),
                    end: End::Open,
                }
            }
            SourceFormat::JsonLines => Source::Json {
                lines: Box::new(BufReader::with_capacity(1 << 16, input)),
                line: 0,
                buf: Vec::new(),
            },
        };
        Ok(DeclarationReader {
            source,
            ledger: Ledger {
                report: IngestReport {
                    file: file.clone(),
                    ..Default::default()
                },
                file,
                seen_ids: Some(SeenIds::new()),
            },
            profile,
            failed: None,
        })
    }

    /// Stop tracking declaration ids (saves memory on inputs known to be unique).
    pub fn without_duplicate_check(mut self) -> Self {
        self.ledger.seen_ids = None;
        self
    }

    pub fn report(&self) -> &IngestReport {
        &self.ledger.report
    }

    /// A read failure in the middle of the stream (e.g. a truncated gzip member) ends iteration;
    /// it is returned here so callers can fail loudly rather than accept a partial file.
    pub fn take_error(&mut self) -> Option<IngestError> {
        self.failed.take()
    }
}

/// Per-reader bookkeeping, kept apart from the source so rows can be accounted for while the
/// source still borrows the current record.
struct Ledger {
    file: String,
    report: IngestReport,
    seen_ids: Option<SeenIds>,
}

impl Ledger {
    fn quarantine(&mut self, line: u64, field: &str, reason: String, raw: String) -> Row {
        self.report.quarantined += 1;
        *self
            .report
            .quarantined_by_field
            .entry(field.to_string())
            .or_default() += 1;
        Row::Quarantined(Quarantined {
            file: self.file.clone(),
            line,
            field: field.to_string(),
            reason,
            raw,
        })
    }

    fn finish_row(
        &mut self,
        line: u64,
        parsed: Result<Declaration, Reject>,
        raw: impl FnOnce() -> String,
    ) -> Row {
        self.report.read += 1;
        match parsed {
            Err(Reject(rejected)) => {
                let (field, reason) = *rejected;
                self.quarantine(line, field, reason, raw())
            }
            Ok(declaration) => {
                if let Some(seen) = &mut self.seen_ids {
                    if let Err(first) = seen.insert(&declaration.declaration_id, line) {
                        let reason = format!(
                            "duplicate declaration id {} (first seen on line {first})",
                            bounded(&declaration.declaration_id),
                        );
                        self.report.duplicate_ids += 1;
                        return self.quarantine(line, Field::DeclarationId.name(), reason, raw());
                    }
                }
                self.report.accepted += 1;
                Row::Accepted(declaration)
            }
        }
    }
}

/// How much of the first line is looked at to tell the delimiter.
const HEADER_PEEK: usize = 1 << 16;

/// The delimiter of a CSV header line a profile did not name: a comma, unless the line has no
/// comma and has semicolons or tabs (European spreadsheet exports write `;` because `,` is
/// their decimal mark).
fn header_delimiter(header: &[u8]) -> u8 {
    let count = |c: u8| header.iter().filter(|&&b| b == c).count();
    let (semicolons, tabs) = (count(b';'), count(b'\t'));
    if count(b',') > 0 || semicolons + tabs == 0 {
        b','
    } else if semicolons >= tabs {
        b';'
    } else {
        b'\t'
    }
}

fn read_retrying(input: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

impl Iterator for DeclarationReader {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        if self.failed.is_some() {
            return None;
        }
        match &mut self.source {
            Source::Csv {
                reader,
                columns,
                defaults,
                width,
                ahead,
                spare,
                hashes,
                end,
            } => {
                if ahead.is_empty() && matches!(end, End::Open) {
                    let id_column = columns[Field::DeclarationId as usize];
                    let ids = self.ledger.seen_ids.as_ref().zip(id_column);
                    *end = read_ahead(reader, ahead, spare, hashes, ids, &self.ledger.file);
                }
                let Some((record, line)) = ahead.pop_front() else {
                    if let End::Failed(e) = std::mem::replace(end, End::Done) {
                        self.failed = Some(e);
                    }
                    return None;
                };
                let (columns, defaults) = (&*columns, &*defaults);
                let wrong_width = |n: usize| {
                    Err(Reject::new(
                        "row",
                        format!("expected {width} fields, found {n}"),
                    ))
                };
                // The whole record is checked as UTF-8 at once (an all-ASCII record in one
                // pass); only a record that fails is checked field by field, so the error names
                // the declaration field and a bad byte in an unmapped column does not count.
                match csv::StringRecord::from_byte_record(record) {
                    Ok(text) => {
                        let parsed = if text.len() != *width {
                            wrong_width(text.len())
                        } else {
                            build_declaration(
                                CsvFields {
                                    text: &text,
                                    columns,
                                    defaults,
                                },
                                &self.profile.formats,
                            )
                        };
                        let row = self
                            .ledger
                            .finish_row(line, parsed, || text.iter().collect::<Vec<_>>().join(","));
                        spare.push(text.into_byte_record());
                        Some(row)
                    }
                    Err(e) => {
                        let bytes = e.into_byte_record();
                        let parsed = if bytes.len() != *width {
                            wrong_width(bytes.len())
                        } else {
                            build_declaration(
                                |field| match columns[field as usize] {
                                    Some(i) => match std::str::from_utf8(&bytes[i]) {
                                        Ok(s) => Ok(Some(s)),
                                        Err(_) => Err("invalid UTF-8"),
                                    },
                                    None => Ok(defaults[field as usize].as_deref()),
                                },
                                &self.profile.formats,
                            )
                        };
                        let row = self.ledger.finish_row(line, parsed, || {
                            bytes
                                .iter()
                                .map(|f| String::from_utf8_lossy(f).into_owned())
                                .collect::<Vec<_>>()
                                .join(",")
                        });
                        spare.push(bytes);
                        Some(row)
                    }
                }
            }
            Source::Json { lines, line, buf } => loop {
                buf.clear();
                match lines.read_until(b'\n', buf) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => {
                        self.failed = Some(IngestError::Read {
                            file: self.ledger.file.clone(),
                            line: *line + 1,
                            message: e.to_string(),
                        });
                        return None;
                    }
                }
                *line += 1;
                let mut bytes = buf.as_slice();
                if *line == 1 {
                    bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
                }
                if bytes.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let line_no = *line;
                let raw_text = String::from_utf8_lossy(bytes).trim_end().to_string();
                let parsed = parse_json_row(bytes, &self.profile);
                return Some(self.ledger.finish_row(line_no, parsed, || raw_text));
            },
        }
    }
}

fn parse_json_row(bytes: &[u8], profile: &Profile) -> Result<Declaration, Reject> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        let reason = if std::str::from_utf8(bytes).is_err() {
            "invalid UTF-8".to_string()
        } else {
            format!("not valid JSON: {e}")
        };
        Reject::new("row", reason)
    })?;
    let serde_json::Value::Object(map) = value else {
        return Err(Reject::new("row", "expected a JSON object".into()));
    };
    // JSON numbers and booleans become text so that one parser serves both formats.
    let mut values: Vec<(Field, Option<String>)> = Vec::with_capacity(profile.columns.len());
    for (field, key) in &profile.columns {
        let v = match map.get(key) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            // A JSON number is written in the profile's convention, so that one parser reads
            // it and the quoted numbers of the same file alike.
            Some(serde_json::Value::Number(n)) if profile.formats.decimal != '.' => {
                Some(n.to_string().replace('.', ","))
            }
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::Bool(b)) => Some(if *b { "1" } else { "0" }.to_string()),
            Some(_) => {
                return Err(Reject::bad(
                    *field,
                    "expected a string, number or boolean".into(),
                ))
            }
        };
        values.push((*field, v));
    }
    build_declaration(
        |field| {
            Ok(match values.iter().find(|(f, _)| *f == field) {
                Some((_, v)) => v.as_deref(),
                None => profile.defaults.get(&field).map(String::as_str),
            })
        },
        &profile.formats,
    )
}

/// Why a row is not accepted: the field it names (`row` for the whole row) and the reason.
/// One pointer wide, so a field's result moves in registers (a 48-byte error slot moved
/// through the stack with every field cost store-forwarding stalls); rejections are rare, so
/// the allocation is too.
#[derive(Debug)]
struct Reject(Box<(&'static str, String)>);

impl Reject {
    #[cold]
    fn new(field: &'static str, reason: String) -> Self {
        Reject(Box::new((field, reason)))
    }

    fn bad(field: Field, reason: String) -> Self {
        Reject::new(field.name(), reason)
    }

    fn missing(field: Field) -> Self {
        Reject::bad(field, "missing value".into())
    }
}

/// Checks one value for `field` with exactly the rules a row is read with (used to reject a
/// profile's unparsable constant default at load time instead of quarantining every row).
pub(crate) fn check_value(field: Field, value: &str, formats: &ValueFormats) -> Result<(), String> {
    // A valid placeholder for every other required field, so only `field` can fail.
    let date = formats.write_date(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default());
    let placeholder = |f: Field| match f {
        Field::DeclarationId | Field::Importer => Some("placeholder"),
        Field::Date => Some(date.as_str()),
        Field::HsCode => Some("010121"),
        Field::OriginCountry => Some("KR"),
        Field::NetMassKg | Field::CustomsValue => Some("1"),
        _ => None,
    };
    match build_declaration(
        |f| {
            Ok(if f == field {
                Some(value)
            } else {
                placeholder(f)
            })
        },
        formats,
    ) {
        Err(Reject(rejected)) if rejected.0 == field.name() => Err(rejected.1),
        _ => Ok(()),
    }
}

/// Where a row's fields are read from: the raw text of a field (`None` when the source has no
/// such value) or an encoding problem.
trait FieldSource<'a> {
    fn raw(&self, field: Field) -> Result<Option<&'a str>, &'static str>;
}

impl<'a, F: Fn(Field) -> Result<Option<&'a str>, &'static str>> FieldSource<'a> for F {
    fn raw(&self, field: Field) -> Result<Option<&'a str>, &'static str> {
        self(field)
    }
}

/// The fields of a CSV record that is valid UTF-8 (the common case: read without a call per
/// field).
struct CsvFields<'a> {
    text: &'a csv::StringRecord,
    columns: &'a [Option<usize>; Field::ALL.len()],
    defaults: &'a [Option<String>; Field::ALL.len()],
}

impl<'a> FieldSource<'a> for CsvFields<'a> {
    #[inline(always)]
    fn raw(&self, field: Field) -> Result<Option<&'a str>, &'static str> {
        Ok(match self.columns[field as usize] {
            Some(i) => self.text.get(i),
            None => self.defaults[field as usize].as_deref(),
        })
    }
}

/// A row's fields, read through an accessor: `get` returns the raw text of a field (`None`
/// when the source has no such column) or an encoding problem. Values are trimmed; an empty
/// one is absent. Text fields are written in place into the declaration being built.
struct Fields<'f, G> {
    get: G,
    formats: &'f ValueFormats,
}

impl<'a, G: FieldSource<'a>> Fields<'_, G> {
    #[inline(always)]
    fn text(&self, field: Field) -> Result<Option<&'a str>, Reject> {
        match self.get.raw(field) {
            Ok(Some(s)) => {
                let s = trim(s);
                Ok(if s.is_empty() { None } else { Some(s) })
            }
            Ok(None) => Ok(None),
            Err(reason) => Err(Reject::bad(field, reason.to_string())),
        }
    }

    #[inline(always)]
    fn required(&self, field: Field) -> Result<&'a str, Reject> {
        self.text(field)?.ok_or_else(|| Reject::missing(field))
    }

    /// A code, left empty when absent (`to` is empty).
    #[inline(always)]
    fn code(&self, to: &mut Text, field: Field) -> Result<(), Reject> {
        if let Some(s) = self.text(field)? {
            put(to, s);
        }
        Ok(())
    }

    #[inline(always)]
    fn opt_code(&self, to: &mut Option<Text>, field: Field) -> Result<(), Reject> {
        if let Some(s) = self.text(field)? {
            put(to.insert(Text::default()), s);
        }
        Ok(())
    }

    /// An ISO country code (two or three letters), in upper case.
    #[inline(always)]
    fn country(&self, to: &mut Option<Text>, field: Field) -> Result<(), Reject> {
        match self.text(field)? {
            None => {}
            Some(c) if (2..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                put_upper(to.insert(Text::default()), c)
            }
            Some(c) => {
                return Err(Reject::bad(
                    field,
                    format!("{} is not an ISO country code", quoted(c)),
                ))
            }
        }
        Ok(())
    }

    /// A finite number, not negative.
    #[inline(always)]
    fn number(&self, field: Field) -> Result<Option<f64>, Reject> {
        match self.text(field)? {
            None => Ok(None),
            Some(s) => match self.formats.parse_number(s) {
                Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
                Some(v) if v.is_finite() => {
                    Err(Reject::bad(field, format!("{} is negative", quoted(s))))
                }
                Some(_) => Err(Reject::bad(
                    field,
                    format!("{} is not a finite number", quoted(s)),
                )),
                None if self.formats.plain_numbers() => {
                    let hint = if s.contains(',') {
                        " (decimal commas or digit groups need decimal_separator and thousands_separator in a JSON profile)"
                    } else {
                        ""
                    };
                    Err(Reject::bad(
                        field,
                        format!("{} is not a number{hint}", quoted(s)),
                    ))
                }
                None => Err(Reject::bad(
                    field,
                    format!(
                        "{} is not a number written as the profile says ({})",
                        quoted(s),
                        self.formats.describe_number()
                    ),
                )),
            },
        }
    }

    #[inline(always)]
    fn required_number(&self, field: Field) -> Result<f64, Reject> {
        self.number(field)?.ok_or_else(|| Reject::missing(field))
    }
}

/// Builds a declaration from a field accessor (see [`Fields`]). A row with several wrong
/// fields is rejected naming the first in the order they are read here.
fn build_declaration<'a>(
    get: impl FieldSource<'a>,
    formats: &ValueFormats,
) -> Result<Declaration, Reject> {
    let fields = Fields { get, formats };
    let declaration_id = fields.required(Field::DeclarationId)?;
    let date_text = fields.required(Field::Date)?;
    let date = match &formats.date {
        None => parse_date(date_text),
        Some(pattern) => NaiveDate::parse_from_str(date_text, pattern).ok(),
    }
    .ok_or_else(|| {
        let expected = match &formats.date {
            None => "YYYY-MM-DD; another order needs date_format in a JSON profile".to_string(),
            Some(pattern) => format!("the profile's date_format {pattern}"),
        };
        Reject::bad(
            Field::Date,
            format!("{} is not a date ({expected})", quoted(date_text)),
        )
    })?;
    let hs_text = fields.required(Field::HsCode)?;
    let hs_code = HsCode::parse(hs_text).map_err(|e| {
        let reason = if hs_text.len() > QUOTE_LIMIT {
            format!("{} is not an HS code (6 to 10 digits)", quoted(hs_text))
        } else {
            e.to_string()
        };
        Reject::bad(Field::HsCode, reason)
    })?;
    let mut origin_country = None;
    fields.country(&mut origin_country, Field::OriginCountry)?;
    let origin_country = origin_country.ok_or_else(|| Reject::missing(Field::OriginCountry))?;

    let fraud = match fields.text(Field::Fraud)? {
        None => None,
        Some(s) => Some(parse_flag(s).ok_or_else(|| {
            Reject::bad(
                Field::Fraud,
                format!("{} is not a fraud flag (0/1, true/false)", quoted(s)),
            )
        })?),
    };
    let critical = match fields.text(Field::CriticalLevel)? {
        None => None,
        Some(s) => match formats.parse_number(s) {
            Some(v) if v == 0.0 || v == 1.0 || v == 2.0 => Some(v as u8),
            _ => {
                return Err(Reject::bad(
                    Field::CriticalLevel,
                    format!("{} is not a critical-fraud level (0, 1 or 2)", quoted(s)),
                ))
            }
        },
    };
    let amount_recovered = fields.number(Field::AmountRecovered)?;
    let outcome = match (fraud, critical) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(Reject::bad(
                Field::Fraud,
                "critical-fraud level given without a fraud flag".into(),
            ))
        }
        (Some(f), level) => {
            let level = level.unwrap_or(u8::from(f));
            if f != (level > 0) {
                return Err(Reject::bad(
                    Field::CriticalLevel,
                    format!(
                        "critical-fraud level {level} contradicts fraud flag {}",
                        u8::from(f)
                    ),
                ));
            }
            Some(InspectionOutcome {
                fraud: f,
                critical_level: level,
                amount_recovered,
            })
        }
    };

    // The text is written in place, the other fields in this order.
    let mut d = Declaration {
        declaration_id: Text::default(),
        date,
        office: Text::default(),
        declarant: Text::default(),
        importer: Text::default(),
        seller: None,
        courier: None,
        hs_code,
        origin_country,
        departure_country: None,
        transport_mode: Text::default(),
        process_type: Text::default(),
        import_type: Text::default(),
        import_use: Text::default(),
        payment_type: Text::default(),
        net_mass_kg: None,
        customs_value: None,
        currency: Text::default(),
        tax_rate: None,
        tax_type: Text::default(),
        origin_indicator: Text::default(),
        description: None,
        quantity: None,
        quantity_unit: None,
        outcome,
    };
    put(&mut d.declaration_id, declaration_id);
    fields.code(&mut d.office, Field::Office)?;
    fields.code(&mut d.declarant, Field::Declarant)?;
    put(&mut d.importer, fields.required(Field::Importer)?);
    fields.opt_code(&mut d.seller, Field::Seller)?;
    fields.opt_code(&mut d.courier, Field::Courier)?;
    fields.country(&mut d.departure_country, Field::DepartureCountry)?;
    fields.code(&mut d.transport_mode, Field::TransportMode)?;
    fields.code(&mut d.process_type, Field::ProcessType)?;
    fields.code(&mut d.import_type, Field::ImportType)?;
    fields.code(&mut d.import_use, Field::ImportUse)?;
    fields.code(&mut d.payment_type, Field::PaymentType)?;
    d.net_mass_kg = Some(fields.required_number(Field::NetMassKg)?);
    d.customs_value = Some(fields.required_number(Field::CustomsValue)?);
    if let Some(c) = fields.text(Field::Currency)? {
        put_upper(&mut d.currency, c);
    }
    d.tax_rate = fields.number(Field::TaxRate)?;
    fields.code(&mut d.tax_type, Field::TaxType)?;
    fields.code(&mut d.origin_indicator, Field::OriginIndicator)?;
    d.description = fields.text(Field::Description)?.map(str::to_string);
    d.quantity = fields.number(Field::Quantity)?;
    fields.opt_code(&mut d.quantity_unit, Field::QuantityUnit)?;
    Ok(d)
}

/// `s` without surrounding white space; a value that starts and ends with a visible ASCII
/// character (nearly every one) is returned without the Unicode-aware scan.
#[inline]
fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Writes `s` into the empty text `to`, in place. (`Text::from` builds a short text in a
/// scratch buffer with byte-sized stores and reads it back in words, which stalls store
/// forwarding; that was a tenth of ingest time.)
#[inline(always)]
fn put(to: &mut Text, s: &str) {
    debug_assert!(to.is_empty());
    to.push_str(s);
}

/// Writes `s` in ASCII upper case into the empty text `to` (codes usually come in upper case;
/// a short one is stored inline, without allocating).
#[inline(always)]
fn put_upper(to: &mut Text, s: &str) {
    put(to, s);
    if s.bytes().any(|b| b.is_ascii_lowercase()) {
        to.make_ascii_uppercase();
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    // Fast path for ISO dates, the common case on large files.
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    let s = s
        .get(..10)
        .filter(|p| p.len() == 10 && s.len() >= 10)
        .unwrap_or(s);
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y%m%d"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .ok()
}

fn parse_flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" | "y" => Some(true),
        "0" | "0.0" | "false" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// Writes quarantined rows as CSV (`file,line,field,reason,raw`) for analysts to fix and resubmit.
pub struct QuarantineWriter {
    writer: csv::Writer<Box<dyn Write>>,
    pub path: Option<PathBuf>,
}

impl QuarantineWriter {
    pub fn create(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::create(&path)?;
        Self::new(Box::new(std::io::BufWriter::new(file)), Some(path))
    }

    pub fn new(out: Box<dyn Write>, path: Option<PathBuf>) -> std::io::Result<Self> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(["file", "line", "field", "reason", "raw"])?;
        Ok(QuarantineWriter { writer, path })
    }

    pub fn write(&mut self, q: &Quarantined) -> std::io::Result<()> {
        self.writer.write_record([
            q.file.as_str(),
            &q.line.to_string(),
            &q.field,
            &q.reason,
            &q.raw,
        ])?;
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// Reads a whole file into memory: accepted declarations, quarantined rows and the report.
/// For training-sized inputs; scoring streams with [`crate::drive`] instead.
pub fn read_all(
    path: impl AsRef<Path>,
    profile: Profile,
) -> Result<(Vec<Declaration>, Vec<Quarantined>, IngestReport), IngestError> {
    let path = path.as_ref();
    let reader = DeclarationReader::open(path, profile)?;
    let mut sink = crate::QuarantineSink::memory();
    let mut accepted = Vec::new();
    let report = crate::drive(reader, path, &mut sink, |d| {
        accepted.push(d);
        Ok::<(), IngestError>(())
    })?;
    Ok((accepted, sink.into_rows(), report))
}
