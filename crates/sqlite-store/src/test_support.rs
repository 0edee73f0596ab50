//! A throwaway database file per test, removed with its folder on `Drop`.
#![allow(clippy::expect_used)]

use std::path::PathBuf;

use crate::{Location, SqliteStore, open};

pub struct TestDatabase {
    folder: PathBuf,
    pub path: PathBuf,
    pub store: SqliteStore,
}

impl TestDatabase {
    /// A fresh, migrated database file.
    ///
    /// # Panics
    /// When the temporary folder cannot be written.
    #[must_use]
    pub fn new() -> Self {
        let folder =
            std::env::temp_dir().join(format!("iam-recovery-test-{}", uuid::Uuid::new_v4()));
        let path = folder.join("store.sqlite");
        let store = open(&Location::File(path.clone())).expect("open the test database");
        Self {
            folder,
            path,
            store,
        }
    }
}

impl TestDatabase {
    /// A direct connection to this test's database, for assertions.
    ///
    /// # Panics
    /// When the file cannot be opened.
    #[must_use]
    pub fn connection(&self) -> diesel::SqliteConnection {
        use diesel::Connection;
        diesel::SqliteConnection::establish(&self.path.to_string_lossy())
            .expect("open the test database")
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
