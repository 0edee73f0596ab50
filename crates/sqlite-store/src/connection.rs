//! What every new SQLite connection is told before use.

use diesel::SqliteConnection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, Error};

use crate::Location;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Setup {
    /// Write-ahead logging: commits need no fsync with NORMAL sync, and other processes (a
    /// backup, the `sqlite3` shell) read while the server writes. Files only.
    wal: bool,
}

impl Setup {
    pub(crate) fn for_location(location: &Location) -> Self {
        Self {
            wal: matches!(location, Location::File(_)),
        }
    }
}

impl CustomizeConnection<SqliteConnection, Error> for Setup {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), Error> {
        // Wait for the write lock rather than fail at once; enforce the foreign keys (off by
        // default in SQLite); with WAL, NORMAL sync is durable across application crashes.
        let journal = if self.wal {
            "PRAGMA journal_mode = WAL;"
        } else {
            ""
        };
        conn.batch_execute(&format!(
            "{journal} PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
             PRAGMA synchronous = NORMAL;"
        ))
        .map_err(Error::QueryError)
    }
}
