//! PostgreSQL for tests: a throwaway schema per test on a real server, created and migrated on
//! [`TestDatabase::new`] and dropped on `Drop`, so tests run in parallel without seeing each
//! other.
//!
//! The server is `DATABASE_URL` when set; else the local default when it answers; else a
//! throwaway cluster this process starts (initdb and postgres in a temporary folder, on a free
//! port) and that stops when the process ends.
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::{PgStore, PoolOptions, connect, run_migrations};

const LOCAL_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server tests use, found (or started) once per process.
#[must_use]
pub fn server_url() -> String {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let url = std::env::var("DATABASE_URL")
                .ok()
                .or_else(|| answers(LOCAL_DEFAULT).then(|| LOCAL_DEFAULT.to_owned()))
                .unwrap_or_else(throwaway_cluster);
            sweep_leftovers(&url);
            url
        })
        .clone()
}

fn answers(url: &str) -> bool {
    PgConnection::establish(url).is_ok()
}

pub struct TestDatabase {
    schema: String,
    /// A DSN whose connections work inside this test's schema only.
    pub url: String,
    pub store: PgStore,
}

impl TestDatabase {
    /// A fresh, migrated schema.
    #[must_use]
    pub fn new() -> Self {
        let server = server_url();
        let schema = format!("test_{}_{}", std::process::id(), Uuid::new_v4().simple());
        let mut conn = PgConnection::establish(&server).unwrap_or_else(|e| {
            panic!("PostgreSQL at {server} does not answer ({e}); start it or set DATABASE_URL")
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

/// Drops the schemas of test processes that ended without cleaning up (killed, aborted): their
/// names carry the process id, and that process is gone.
fn sweep_leftovers(url: &str) {
    #[derive(diesel::QueryableByName)]
    struct Schema {
        #[diesel(sql_type = diesel::sql_types::Text)]
        nspname: String,
    }
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(mut conn) = PgConnection::establish(url) else {
        return;
    };
    let Ok(schemas) = diesel::sql_query(
        "SELECT nspname::text AS nspname FROM pg_namespace WHERE nspname LIKE 'test\\_%\\_%'",
    )
    .load::<Schema>(&mut conn) else {
        return;
    };
    for Schema { nspname } in schemas {
        let pid = nspname
            .split('_')
            .nth(1)
            .and_then(|pid| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {nspname} CASCADE"))
                .execute(&mut conn);
        }
    }
}

/// Starts a PostgreSQL cluster of this process's own and returns its URL. The cluster lives
/// as long as the process: a shell keeps it, waiting on a pipe from this process, and stops it
/// and removes its folder when the pipe closes at exit.
fn throwaway_cluster() -> String {
    let bin = postgres_bin().unwrap_or_else(|| {
        panic!(
            "the PostgreSQL tests need a PostgreSQL server: none answers at {LOCAL_DEFAULT}, \
             DATABASE_URL is not set, and no PostgreSQL installation (initdb) was found to \
             start one. Install PostgreSQL (e.g. `apt install postgresql`) or set DATABASE_URL."
        )
    });
    let folder = std::env::temp_dir().join(format!("iam-recovery-pg-{}", Uuid::new_v4().simple()));
    let data = folder.join("data");
    std::fs::create_dir_all(&folder).expect("create the cluster folder");
    // PostgreSQL refuses to run as root; as root, run it as the postgres user.
    let as_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    if as_root {
        let status = Command::new("chown")
            .args(["-R", "postgres:", &folder.to_string_lossy()])
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "chown the cluster folder to postgres"
        );
    }
    let command = |program: &str| {
        let path = bin.join(program).to_string_lossy().into_owned();
        if as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", &path]);
            command
        } else {
            Command::new(path)
        }
    };
    let output = command("initdb")
        .args([
            "-D",
            &data.to_string_lossy(),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        ])
        .output()
        .expect("run initdb");
    assert!(
        output.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("find a free port")
        .port();
    let postgres = bin.join("postgres").to_string_lossy().into_owned();
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{folder}' -c listen_addresses=127.0.0.1 \
         -c fsync=off -c max_connections=200 >'{folder}/log' 2>&1 & pid=$!; \
         cat >/dev/null; kill -INT $pid; wait $pid; rm -rf '{folder}'",
        data = data.display(),
        folder = folder.display(),
    );
    let keeper: Child = if as_root {
        Command::new("runuser")
            .args(["-u", "postgres", "--", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .spawn()
    } else {
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .spawn()
    }
    .expect("start postgres");
    // Kept for the life of the process: its stdin closing is the signal to stop.
    static KEEPER: OnceLock<std::sync::Mutex<Child>> = OnceLock::new();
    let _ = KEEPER.set(std::sync::Mutex::new(keeper));

    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !answers(&url) {
        assert!(
            Instant::now() < deadline,
            "the throwaway PostgreSQL did not start; see {}/log",
            folder.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    url
}

/// The folder of the newest PostgreSQL server binaries: beside `initdb` on the PATH, or
/// Debian's `/usr/lib/postgresql/<version>/bin`.
fn postgres_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").is_file())
            .collect();
        versions.sort_by_key(|bin| {
            bin.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
        });
        versions.pop()
    })
}
