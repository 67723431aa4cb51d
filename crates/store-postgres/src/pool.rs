//! The connection pool: `r2d2` with a connection manager of ours.
//!
//! Why not `r2d2_postgres`: its manager can only tell a broken connection by a closed socket.
//! A connection whose ROLLBACK failed (or whose BEGIN failed half-way) may still be open but
//! inside an aborted transaction; ours carries a `broken` flag that the transaction sets, and
//! the pool then closes that connection instead of handing it to the next caller.

use borderline_governance::StoreError;
use postgres::{Client, Config, NoTls, Statement};
use std::collections::HashMap;
use std::time::Duration;

use crate::backend;

/// A pooled client, its prepared statements and whether it must be discarded.
pub struct Connection {
    pub(crate) client: Client,
    pub(crate) broken: bool,
    /// Statements prepared on this connection, by their SQL text: a statement is parsed once
    /// per connection, and each later use is one round trip instead of two.
    pub(crate) statements: HashMap<String, Statement>,
}

/// Prepared statements kept per connection at most (the queue's filter combinations make the
/// SQL text vary; past this the cache starts over).
const STATEMENTS: usize = 256;

impl Connection {
    /// The prepared statement for `sql`, prepared now if this connection has not yet.
    pub(crate) fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(backend)?;
        if self.statements.len() >= STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

/// Opens connections from one client configuration.
pub struct Manager {
    config: Config,
}

impl Manager {
    pub(crate) fn new(config: Config) -> Manager {
        Manager { config }
    }
}

/// Connects without TLS: the store is reached on loopback or a private network. (TLS to a
/// remote server is a later option: `postgres-native-tls` or `postgres-rustls` plug in here.)
pub(crate) fn connect(config: &Config) -> Result<Client, StoreError> {
    config.connect(NoTls).map_err(backend)
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = StoreError;

    fn connect(&self) -> Result<Connection, StoreError> {
        Ok(Connection {
            client: connect(&self.config)?,
            broken: false,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), StoreError> {
        conn.client
            .is_valid(Duration::from_secs(5))
            .map_err(backend)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.broken || conn.client.is_closed()
    }
}
