//! Reading batch and labelled files (CSV or JSON Lines, chosen by extension) and writing batch
//! suggestions (CSV or JSON Lines).

use crate::error::HsError;
use crate::model::{Labelled, Suggestion};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// File format, from the extension: `.jsonl`/`.ndjson`/`.json` are JSON Lines, anything else CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    pub fn of(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson" | "json") => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// Reads the named string columns of every row. Missing columns are an error; empty cells
/// become empty strings. Numbers in JSON are turned into their text form.
pub fn read_columns(path: &Path, columns: &[&str]) -> Result<Vec<Vec<String>>, HsError> {
    read_columns_opt(path, columns, &[])
}

/// Like [`read_columns`], plus `optional` columns that read as empty strings when the file (CSV)
/// or a line (JSON Lines) does not have them. Row values: required columns, then optional ones.
pub fn read_columns_opt(
    path: &Path,
    required: &[&str],
    optional: &[&str],
) -> Result<Vec<Vec<String>>, HsError> {
    let columns: Vec<&str> = required.iter().chain(optional).copied().collect();
    let n_required = required.len();
    let input_err = |message: String| HsError::Input {
        path: path.to_path_buf(),
        message,
    };
    let mut rows = Vec::new();
    match Format::of(path) {
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(path)
                .map_err(|e| input_err(e.to_string()))?;
            let headers = rdr.headers().map_err(|e| input_err(e.to_string()))?.clone();
            let mut idx: Vec<Option<usize>> = Vec::with_capacity(columns.len());
            for (n, c) in columns.iter().enumerate() {
                let found = headers.iter().position(|h| {
                    h.trim()
                        .trim_start_matches('\u{feff}')
                        .eq_ignore_ascii_case(c)
                });
                if found.is_none() && n < n_required {
                    return Err(input_err(format!(
                        "no `{c}` column (columns: {})",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    )));
                }
                idx.push(found);
            }
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| input_err(format!("row {}: {e}", i + 2)))?;
                rows.push(
                    idx.iter()
                        .map(|j| j.and_then(|j| rec.get(j)).unwrap_or_default().to_string())
                        .collect(),
                );
            }
        }
        Format::JsonLines => {
            let src = std::fs::read_to_string(path).map_err(|source| HsError::File {
                path: path.to_path_buf(),
                source,
            })?;
            for (i, line) in src.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: serde_json::Value = serde_json::from_str(line)
                    .map_err(|e| input_err(format!("line {}: {e}", i + 1)))?;
                let mut row = Vec::with_capacity(columns.len());
                for (n, c) in columns.iter().enumerate() {
                    match v.get(*c) {
                        Some(serde_json::Value::String(s)) => row.push(s.clone()),
                        Some(serde_json::Value::Null) | None if n >= n_required => {
                            row.push(String::new())
                        }
                        Some(serde_json::Value::Null) | None => {
                            return Err(input_err(format!("line {}: no `{c}` field", i + 1)))
                        }
                        Some(other) => row.push(other.to_string()),
                    }
                }
                rows.push(row);
            }
        }
    }
    Ok(rows)
}

/// Reads labelled history: `description` and `hs_code` columns.
pub fn read_labelled(path: &Path) -> Result<Vec<Labelled>, HsError> {
    Ok(read_columns(path, &["description", "hs_code"])?
        .into_iter()
        .map(|mut r| {
            let hs_code = r.pop().unwrap_or_default();
            let description = r.pop().unwrap_or_default();
            Labelled {
                description,
                hs_code,
            }
        })
        .collect())
}

/// One output row of a batch suggestion run.
#[derive(Debug, Clone, Serialize)]
pub struct BatchRow<'a> {
    pub row: usize,
    pub description: &'a str,
    pub suggestions: &'a [Suggestion],
}

/// Writes batch results. JSON Lines: one object per input row with all suggestions and paths.
/// CSV: one line per (row, rank) with code, confidence, heading confidence, text and path.
pub fn write_batch(
    path: &Path,
    rows: &[(String, Vec<Suggestion>)],
    nom: &crate::Nomenclature,
) -> Result<(), HsError> {
    let file = std::fs::File::create(path).map_err(|source| HsError::File {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = std::io::BufWriter::new(file);
    match Format::of(path) {
        Format::JsonLines => {
            for (i, (d, s)) in rows.iter().enumerate() {
                serde_json::to_writer(
                    &mut out,
                    &BatchRow {
                        row: i + 1,
                        description: d,
                        suggestions: s,
                    },
                )?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "row",
                "description",
                "rank",
                "hs_code",
                "confidence",
                "heading_confidence",
                "text",
                "path",
            ])?;
            for (i, (d, s)) in rows.iter().enumerate() {
                for (r, sug) in s.iter().enumerate() {
                    w.write_record([
                        (i + 1).to_string(),
                        d.clone(),
                        (r + 1).to_string(),
                        sug.code.clone(),
                        format!("{:.4}", sug.confidence),
                        format!("{:.4}", sug.heading_confidence),
                        sug.description.clone(),
                        nom.path_string(&sug.code),
                    ])?;
                }
            }
            w.flush()?;
            return Ok(());
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_and_jsonl_columns() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("in.csv");
        std::fs::write(
            &csv_path,
            "id,description,hs_code\n1,frozen shrimp,030617\n2,\"laptop, 14 inch\",847130\n",
        )
        .unwrap();
        let l = read_labelled(&csv_path).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[1],
            Labelled {
                description: "laptop, 14 inch".into(),
                hs_code: "847130".into()
            }
        );
        let jl = dir.path().join("in.jsonl");
        std::fs::write(
            &jl,
            "{\"description\":\"solar panel\",\"hs_code\":854143}\n\n",
        )
        .unwrap();
        let l = read_labelled(&jl).unwrap();
        assert_eq!(l[0].hs_code, "854143");
        let opt = read_columns_opt(&csv_path, &["description"], &["category"]).unwrap();
        assert_eq!(opt[0], vec!["frozen shrimp".to_string(), String::new()]);
        let opt = read_columns_opt(&jl, &["description"], &["category"]).unwrap();
        assert_eq!(opt[0], vec!["solar panel".to_string(), String::new()]);
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "text\nfoo\n").unwrap();
        assert!(matches!(
            read_columns(&bad, &["description"]),
            Err(HsError::Input { .. })
        ));
    }
}
