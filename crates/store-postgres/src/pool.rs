//! The connection pool: `r2d2` with a connection manager of ours.
//!
//! Why not `r2d2_postgres`: its manager can only tell a broken connection by a closed socket.
//! A connection whose ROLLBACK failed (or whose BEGIN failed half-way) may still be open but
//! inside an aborted transaction; ours carries a `broken` flag that the transaction sets, and
//! the pool then closes that connection instead of handing it to the next caller.

use borderline_governance::StoreError;
use postgres::{Client, Config, NoTls};
use std::time::Duration;

use crate::backend;

/// A pooled client and whether it must be discarded.
pub struct Connection {
    pub(crate) client: Client,
    pub(crate) broken: bool,
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
