//! Opening the governance store named by `--db` or `BORDERLINE_DB`: a SQLite file (the
//! embedded default, `borderline.db` here) or a PostgreSQL database (`postgres://...` or
//! `postgresql://...`), shared by several processes and machines. The one place the CLI
//! chooses a store; everything after it works on `&dyn GovernanceStore`.
//! (An enum rather than `Box<dyn GovernanceStore>`: a `&Box<dyn ..>` does not coerce to
//! `&dyn GovernanceStore` at the call sites.)

use anyhow::{Context, Result};
use borderline_governance::{GovernanceStore, StoreError, StoreTx};
use borderline_store_postgres::PostgresStore;
use borderline_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};

/// Where the governance records are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Location {
    /// `--db` if given, else `BORDERLINE_DB`, else `borderline.db` in the working directory.
    pub fn resolve(db: Option<&Path>) -> Location {
        let raw = db
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("BORDERLINE_DB").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("borderline.db"));
        Location::parse(raw)
    }

    fn parse(raw: PathBuf) -> Location {
        match raw.to_str() {
            Some(s) if s.starts_with("postgres://") || s.starts_with("postgresql://") => {
                Location::Postgres(s.to_string())
            }
            _ => Location::File(raw),
        }
    }
}

impl std::fmt::Display for Location {
    /// The location as it can be shown: a URL's password is masked.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The open governance store: one of the two engines behind the one trait.
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl GovernanceStore for Store {
    fn begin(&self, write: bool) -> Result<Box<dyn StoreTx + '_>, StoreError> {
        match self {
            Store::Sqlite(s) => s.begin(write),
            Store::Postgres(s) => s.begin(write),
        }
    }
}

/// Opens the governance store at `db` (see [`Location::resolve`]), applying migrations.
/// With `existing_only`, a SQLite file must already exist (commands that only read must not
/// create an empty, "intact" log at a mistyped path); a PostgreSQL database always exists
/// before it can be connected to.
pub fn open(db: Option<&Path>, existing_only: bool) -> Result<Store> {
    let location = Location::resolve(db);
    Ok(match &location {
        Location::File(path) if existing_only => {
            Store::Sqlite(SqliteStore::open_existing(path).with_context(|| {
                format!("opening {location} (give --db PATH or set BORDERLINE_DB)")
            })?)
        }
        Location::File(path) => {
            Store::Sqlite(SqliteStore::open(path).with_context(|| format!("opening {location}"))?)
        }
        Location::Postgres(url) => Store::Postgres(
            PostgresStore::open(url).with_context(|| format!("opening {location}"))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_selects_postgres_and_anything_else_is_a_file() {
        for url in [
            "postgres://kim@db.customs/borderline",
            "postgresql://kim@127.0.0.1:5432/b",
        ] {
            assert_eq!(Location::parse(url.into()), Location::Postgres(url.into()));
        }
        for file in [
            "borderline.db",
            "/var/lib/borderline/postgres.db",
            "postgres",
        ] {
            assert_eq!(Location::parse(file.into()), Location::File(file.into()));
        }
    }

    #[test]
    fn a_password_is_never_shown() {
        let shown =
            Location::Postgres("postgres://kim:s3cret@db:5432/borderline".into()).to_string();
        assert_eq!(shown, "postgres://kim:***@db:5432/borderline");
        let shown = Location::Postgres("postgres://kim@db/borderline".into()).to_string();
        assert_eq!(shown, "postgres://kim@db/borderline");
    }
}
