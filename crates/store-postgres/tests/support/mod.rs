#![allow(dead_code)] // each test binary uses part of it
//! A fresh, empty database per test on the cluster named by `BORDERLINE_TEST_POSTGRES`
//! (scripts/postgres.sh starts one), dropped when the test ends.

use borderline_store_postgres::{Config, PoolOptions, PostgresStore};
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The test cluster, or `None` after printing why the test is skipped.
pub fn cluster() -> Option<Config> {
    match std::env::var("BORDERLINE_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => Some(
            url.parse()
                .expect("BORDERLINE_TEST_POSTGRES is a PostgreSQL URL"),
        ),
        _ => {
            eprintln!(
                "skipped: BORDERLINE_TEST_POSTGRES not set (scripts/test.sh starts a cluster)"
            );
            None
        }
    }
}

/// One empty database of its own.
pub struct TestDb {
    admin: Config,
    pub config: Config,
    name: String,
}

impl TestDb {
    /// A new empty database on the test cluster, or `None` (skip) when there is none.
    pub fn create() -> Option<TestDb> {
        let admin = cluster()?;
        let name = format!(
            "borderline_t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = admin
            .connect(postgres::NoTls)
            .expect("connect to the test cluster");
        // Separate statements: several in one query string run as one transaction, which
        // CREATE/DROP DATABASE refuse.
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .expect("drop a leftover test database");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let mut config = admin.clone();
        config.dbname(&name);
        Some(TestDb {
            admin,
            config,
            name,
        })
    }

    /// A store on this database with its own pool (as another process would have).
    pub fn open(&self) -> PostgresStore {
        PostgresStore::open_config(self.config.clone(), PoolOptions::default()).expect("open store")
    }

    /// A raw client, as someone with database access (not the API) has it.
    pub fn raw(&self) -> postgres::Client {
        self.config
            .connect(postgres::NoTls)
            .expect("raw connection")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Best effort: the cluster itself is thrown away at the end of the run.
        if let Ok(mut client) = self.admin.connect(postgres::NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
