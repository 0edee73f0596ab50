//! A fresh database per run: created, migrated by the server's own `migrate`, seeded in bulk,
//! and dropped at the end.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use domain::id::IdentityId;

use crate::args::Store;

pub struct Database {
    pub store: Store,
    /// What the server is given.
    pub dsn: String,
    /// PostgreSQL: the server URL the database was created on, and its name.
    server_url: String,
    name: String,
    /// SQLite: the folder holding the file.
    folder: Option<PathBuf>,
    identities: usize,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(server, _)| server);
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl Database {
    /// Creates, migrates (with `binary migrate`) and seeds `identities` identities. On
    /// PostgreSQL the database is created on the server at `server_url`.
    pub fn create(
        binary: &std::path::Path,
        store: Store,
        identities: usize,
        server_url: &str,
    ) -> Result<Self, String> {
        let name = format!("bench_{}_{}", std::process::id(), rand::random::<u32>());
        let server_url = server_url.to_owned();
        let db = match store {
            Store::Postgres => {
                let mut conn = PgConnection::establish(&server_url)
                    .map_err(|e| format!("PostgreSQL at {server_url} does not answer: {e}"))?;
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .map_err(|e| e.to_string())?;
                Self {
                    store,
                    dsn: with_database(&server_url, &name),
                    server_url,
                    name,
                    folder: None,
                    identities,
                }
            }
            Store::Sqlite => {
                let folder = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
                Self {
                    store,
                    dsn: format!("sqlite://{}", folder.join("bench.sqlite").display()),
                    server_url,
                    name,
                    folder: Some(folder),
                    identities,
                }
            }
        };
        crate::server::migrate(binary, &db.dsn)?;
        db.seed_identities(identities)?;
        Ok(db)
    }

    fn execute(&self, postgres: &str, sqlite: &str) -> Result<(), String> {
        match self.store {
            Store::Postgres => PgConnection::establish(&self.dsn)
                .map_err(|e| e.to_string())?
                .batch_execute(postgres)
                .map_err(|e| e.to_string()),
            Store::Sqlite => SqliteConnection::establish(self.sqlite_path())
                .map_err(|e| e.to_string())?
                .batch_execute(sqlite)
                .map_err(|e| e.to_string()),
        }
    }

    fn sqlite_path(&self) -> &str {
        self.dsn.trim_start_matches("sqlite://")
    }

    /// `n` identities, numbered in `bench_ids` so that pgbench can pick one at random. Here
    /// only the seeded tables are analyzed: an empty table analyzed tells the planner it stays
    /// empty, and the server's statements, prepared on that, would scan it whole as it fills.
    fn seed_identities(&self, n: usize) -> Result<(), String> {
        self.execute(
            &format!(
                "INSERT INTO identities (id, schema_id, state, traits, created_at, updated_at)
                 SELECT gen_random_uuid(), 'default', 'active', '{{}}'::jsonb, now(), now()
                 FROM generate_series(1, {n});
                 CREATE TABLE bench_ids AS SELECT row_number() OVER () AS n, id FROM identities;
                 CREATE UNIQUE INDEX ON bench_ids (n);
                 ANALYZE identities, bench_ids;"
            ),
            &format!(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n})
                 INSERT INTO identities (id, schema_id, state, traits, created_at, updated_at)
                 SELECT {UUID}, 'default', 'active', '{{}}', {NOW}, {NOW} FROM s;"
            ),
        )
    }

    /// `n` outstanding codes, each with its flow, for the identities in turn, numbered in
    /// `bench_flows` after those seeded before. `exclusive` codes (as issued with invalidation
    /// on) allow one per identity.
    pub fn seed_codes(&self, n: usize, exclusive: bool) -> Result<(), String> {
        let rounds = n.div_ceil(self.identities).max(1);
        self.execute(
            &format!(
                "CREATE TABLE IF NOT EXISTS bench_flows (n bigint, id uuid);
                 WITH picked AS (
                   SELECT b.id FROM generate_series(1, {rounds}), bench_ids b LIMIT {n}),
                 flows AS (
                   INSERT INTO recovery_flows (id, identity_id, flow_type, state, active_method,
                                               request_url, issued_at, expires_at)
                   SELECT gen_random_uuid(), id, 'api', 'sent_email', 'code', 'http://bench',
                          now(), now() + interval '1 hour' FROM picked
                   RETURNING id, identity_id),
                 codes AS (
                   INSERT INTO recovery_codes (id, flow_id, identity_id, code_hash, code_type,
                                               issued_at, expires_at, exclusive)
                   SELECT gen_random_uuid(), id, identity_id,
                          md5(random()::text) || md5(random()::text), 'admin', now(),
                          now() + interval '1 hour', {exclusive} FROM flows
                   RETURNING flow_id)
                 INSERT INTO bench_flows
                 SELECT (SELECT coalesce(max(n), 0) FROM bench_flows) + row_number() OVER (),
                        flow_id
                 FROM codes;
                 CREATE UNIQUE INDEX IF NOT EXISTS bench_flows_n ON bench_flows (n);
                 CREATE SEQUENCE IF NOT EXISTS bench_next;
                 ANALYZE;"
            ),
            &format!(
                "INSERT INTO recovery_flows (id, identity_id, flow_type, state, active_method,
                                             request_url, issued_at, expires_at)
                 SELECT {UUID}, id, 'api', 'sent_email', 'code', 'http://bench', {NOW}, {LATER}
                 FROM identities LIMIT {n};
                 INSERT INTO recovery_codes (id, flow_id, identity_id, code_hash, code_type,
                                             issued_at, expires_at, exclusive)
                 SELECT {UUID}, id, identity_id, lower(hex(randomblob(32))), 'admin', {NOW},
                        {LATER}, {exclusive} FROM recovery_flows;",
                exclusive = u8::from(exclusive),
            ),
        )
    }

    /// One past session for each identity, expired an hour ago (so not yet purged), as a
    /// service in use would have: redemptions do not start on an empty sessions table.
    pub fn seed_sessions(&self) -> Result<(), String> {
        self.execute(
            "INSERT INTO sessions (id, identity_id, token_hash, method, authenticated_at, expires_at)
             SELECT gen_random_uuid(), id, md5(random()::text) || md5(random()::text), 'password',
                    now() - interval '1 day', now() - interval '1 hour'
             FROM identities;",
            &format!(
                "INSERT INTO sessions (id, identity_id, token_hash, method, authenticated_at,
                                       expires_at)
                 SELECT {UUID}, id, lower(hex(randomblob(32))), 'password', {DAY_AGO},
                        {HOUR_AGO} FROM identities;"
            ),
        )
    }

    /// Ends the sessions still live, as the seeded past ones are: the baselines then find what
    /// the service found, no live session to revoke.
    pub fn end_sessions(&self) -> Result<(), String> {
        self.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 hour' WHERE expires_at > now();",
            &format!("UPDATE sessions SET expires_at = {HOUR_AGO} WHERE expires_at > {NOW};"),
        )
    }

    /// Lets the database settle after bulk seeding, so that autovacuum and checkpoints of the
    /// seed do not land in the measured window.
    pub fn settle(&self) -> Result<(), String> {
        match self.store {
            Store::Postgres => {
                let mut conn = PgConnection::establish(&self.dsn).map_err(|e| e.to_string())?;
                conn.batch_execute("VACUUM ANALYZE")
                    .map_err(|e| e.to_string())?;
                conn.batch_execute("CHECKPOINT").map_err(|e| e.to_string())
            }
            Store::Sqlite => SqliteConnection::establish(self.sqlite_path())
                .map_err(|e| e.to_string())?
                .batch_execute("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
                .map_err(|e| e.to_string()),
        }
    }

    /// Every identity id.
    pub fn identity_ids(&self) -> Result<Vec<IdentityId>, String> {
        let query = diesel::sql_query("SELECT CAST(id AS TEXT) AS id FROM identities");
        let rows: Vec<Id> = match self.store {
            Store::Postgres => PgConnection::establish(&self.dsn)
                .map_err(|e| e.to_string())
                .and_then(|mut c| query.load(&mut c).map_err(|e| e.to_string()))?,
            Store::Sqlite => SqliteConnection::establish(self.sqlite_path())
                .map_err(|e| e.to_string())
                .and_then(|mut c| query.load(&mut c).map_err(|e| e.to_string()))?,
        };
        rows.into_iter()
            .map(|row| {
                row.id
                    .parse()
                    .map_err(|e| format!("identity id \"{}\": {e}", row.id))
            })
            .collect()
    }

    pub fn drop_database(self) {
        match self.store {
            Store::Postgres => {
                if let Ok(mut conn) = PgConnection::establish(&self.server_url) {
                    let _ = conn.batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    ));
                }
            }
            Store::Sqlite => {
                if let Some(folder) = &self.folder {
                    let _ = std::fs::remove_dir_all(folder);
                }
            }
        }
    }
}

/// A random UUIDv4 in SQLite, as the store writes them (lower-case, hyphenated).
const UUID: &str = "lower(printf('%s-%s-4%s-%s%s-%s', hex(randomblob(4)), hex(randomblob(2)), \
     substr(hex(randomblob(2)), 2), substr('89ab', 1 + (abs(random()) % 4), 1), \
     substr(hex(randomblob(2)), 2), hex(randomblob(6))))";
/// Now, and an hour from now, as the store writes instants in SQLite.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
const LATER: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 hour')";
const DAY_AGO: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 day')";
const HOUR_AGO: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour')";
