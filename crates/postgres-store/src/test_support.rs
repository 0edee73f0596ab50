//! A throwaway schema per test on a real PostgreSQL server: created and migrated on
//! [`TestDatabase::new`], dropped on `Drop`, so tests run in parallel without seeing each other.
#![allow(clippy::expect_used)]

use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{PgStore, PoolOptions, connect, run_migrations};

/// The server tests use: `DATABASE_URL`, else the local default.
#[must_use]
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

pub struct TestDatabase {
    schema: String,
    /// A DSN whose connections work inside this test's schema only.
    pub url: String,
    pub store: PgStore,
}

impl TestDatabase {
    /// A fresh, migrated schema.
    ///
    /// # Panics
    /// When the server does not answer: the message says how to point the tests at one.
    #[must_use]
    pub fn new() -> Self {
        let server = server_url();
        let schema = format!("test_{}", Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&server).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for these tests and {server} does not answer ({e}); \
                 start it or set DATABASE_URL"
            )
        });
        diesel::sql_query(format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .expect("create the test schema");
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-csearch_path%3D{schema}");
        run_migrations(&url).expect("migrate the test schema");
        let store = connect(
            &url,
            PoolOptions {
                max_connections: 8,
                connection_timeout: Duration::from_secs(10),
                ..PoolOptions::default()
            },
        );
        Self { schema, url, store }
    }

    /// A direct connection into this test's schema, for assertions.
    #[must_use]
    pub fn connection(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test schema")
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&server_url()) {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
                .execute(&mut conn);
        }
    }
}

/// Reverts every migration of the database at `url`, newest first.
///
/// # Errors
/// The migration harness's error, as text.
pub fn revert_all_migrations(url: &str) -> Result<(), String> {
    use diesel_migrations::MigrationHarness;
    let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
    conn.revert_all_migrations(crate::migrations::MIGRATIONS)
        .map(drop)
        .map_err(|e| e.to_string())
}
