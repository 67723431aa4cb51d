//! The set of loaded lists. Lists are replaced whole: a new file is parsed completely into a new
//! [`WatchList`] before it takes the old one's place, so a failed load leaves the old list in force
//! and readers never see half a list.

use crate::error::{Result, ScreeningError};
use crate::loaders::{self, OfacFiles, Source};
use crate::model::{ListMeta, WatchList};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct ListStore {
    lists: BTreeMap<String, Arc<WatchList>>,
}

/// One row of `borderline lists`.
#[derive(Debug, Clone, Serialize)]
pub struct ListSummary {
    pub key: String,
    pub title: String,
    pub date: String,
    pub source: String,
    pub entries: usize,
    pub names: usize,
    pub issues: usize,
}

/// The list formats a user file can be given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ListFormat {
    /// OFAC legacy CSV: a directory with sdn.csv/cons_prim.csv and optional alt/add/comments.
    OfacCsv,
    /// UN Security Council Consolidated List XML.
    UnXml,
    /// BIS Denied Persons List (tab-separated).
    BisDpl,
    /// trade.gov Consolidated Screening List CSV.
    CslCsv,
    /// Borderline simple CSV (see `loaders::load_simple_csv`).
    SimpleCsv,
}

impl std::str::FromStr for ListFormat {
    type Err = ScreeningError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ofac-csv" => ListFormat::OfacCsv,
            "un-xml" => ListFormat::UnXml,
            "bis-dpl" => ListFormat::BisDpl,
            "csl-csv" => ListFormat::CslCsv,
            "simple-csv" => ListFormat::SimpleCsv,
            other => return Err(ScreeningError::UnknownFormat(other.to_string())),
        })
    }
}

impl ListStore {
    pub fn new() -> Self {
        Self::default()
    }
    /// Puts `list` in place of any list with the same key; returns the one it replaced.
    pub fn replace(&mut self, list: WatchList) -> Option<Arc<WatchList>> {
        self.lists.insert(list.meta.key.clone(), Arc::new(list))
    }
    pub fn remove(&mut self, key: &str) -> Option<Arc<WatchList>> {
        self.lists.remove(key)
    }
    pub fn get(&self, key: &str) -> Option<&Arc<WatchList>> {
        self.lists.get(key)
    }
    pub fn lists(&self) -> impl Iterator<Item = &Arc<WatchList>> {
        self.lists.values()
    }
    pub fn summaries(&self) -> Vec<ListSummary> {
        self.lists
            .values()
            .map(|l| ListSummary {
                key: l.meta.key.clone(),
                title: l.meta.title.clone(),
                date: l.meta.date.clone(),
                source: l.meta.source.clone(),
                entries: l.entries.len(),
                names: l.name_count(),
                issues: l.issues.len(),
            })
            .collect()
    }

    /// Loads a user file (or OFAC directory) and replaces the list `key` with it.
    pub fn load_file(
        &mut self,
        key: &str,
        format: ListFormat,
        path: &Path,
        date: Option<&str>,
    ) -> Result<Arc<WatchList>> {
        let meta = ListMeta {
            key: key.to_string(),
            title: format!("{key} (user file)"),
            date: date.unwrap_or("").to_string(),
            source: path.display().to_string(),
        };
        let list = match format {
            ListFormat::OfacCsv => {
                let find = |names: &[&str]| -> Result<Option<Source>> {
                    for n in names {
                        for ext in ["", ".gz"] {
                            let p = path.join(format!("{n}{ext}"));
                            if p.is_file() {
                                return Source::from_path(&p).map(Some);
                            }
                        }
                    }
                    Ok(None)
                };
                if !path.is_dir() {
                    return Err(ScreeningError::Invalid {
                        path: path.display().to_string(),
                        message: "ofac-csv expects a directory holding sdn.csv (or cons_prim.csv) and optional alt.csv, add.csv, sdn_comments.csv".into(),
                    });
                }
                let files = OfacFiles {
                    primary: find(&["sdn.csv", "cons_prim.csv"])?,
                    alt: find(&["alt.csv", "cons_alt.csv"])?,
                    add: find(&["add.csv", "cons_add.csv"])?,
                    comments: find(&["sdn_comments.csv", "cons_comments.csv"])?,
                };
                if files.primary.is_none() && files.alt.is_none() {
                    return Err(ScreeningError::Invalid {
                        path: path.display().to_string(),
                        message: "no sdn.csv, cons_prim.csv or alt.csv in this directory".into(),
                    });
                }
                loaders::load_ofac(meta, files)
            }
            ListFormat::UnXml => loaders::load_un_xml(meta, &Source::from_path(path)?)?,
            ListFormat::BisDpl => loaders::load_bis_dpl(meta, &Source::from_path(path)?)?,
            ListFormat::CslCsv => loaders::load_csl(meta, &Source::from_path(path)?)?,
            ListFormat::SimpleCsv => loaders::load_simple_csv(meta, &Source::from_path(path)?)?,
        };
        self.replace(list);
        self.lists
            .get(key)
            .cloned()
            .ok_or_else(|| ScreeningError::Invalid {
                path: path.display().to_string(),
                message: "list vanished after loading".into(),
            })
    }

    /// The lists bundled in the repository (`data/watchlists/`, compiled into the binary).
    pub fn bundled() -> Result<ListStore> {
        let mut store = ListStore::new();
        for list in crate::bundled::load_all()? {
            store.replace(list);
        }
        Ok(store)
    }
}
