//! Helpers shared by the CLI end-to-end tests: samples of the bundled declarations.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

fn data(split: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../data/declarations/kcs_{split}.csv.gz"))
}

/// Every `every`-th row of a bundled split, as a plain CSV, and its number of data rows.
pub fn sample(split: &str, every: usize, dir: &Path) -> (PathBuf, usize) {
    let file = std::fs::File::open(data(split)).expect("bundled data");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let path = dir.join(format!("{split}.csv"));
    let mut out = std::fs::File::create(&path).expect("create");
    let mut rows = 0;
    for (i, line) in reader.lines().enumerate() {
        let line = line.expect("utf-8");
        if i == 0 || i % every == 0 {
            writeln!(out, "{line}").expect("write");
            rows += usize::from(i > 0);
        }
    }
    (path, rows)
}
