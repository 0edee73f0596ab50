use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use domain::secret::{CodeHash, Secrets};

use crate::{ADMIN_KEY, Server, iam_recovery, run, temp_dir};

#[derive(QueryableByName)]
struct Hash {
    #[diesel(sql_type = diesel::sql_types::Text)]
    code_hash: String,
}

#[test]
fn the_embedded_store_keeps_identities_and_codes_across_restarts() {
    let dir = temp_dir();
    let database = dir.0.join("data").join("iam.sqlite");
    let dsn = format!("sqlite://{}", database.display());

    let first = Server::start(iam_recovery(&dsn));
    let warning = first
        .logged(
            "no secrets.default configured: using the generated secret kept in this file \
             (owner-only); configure secrets.default to manage and rotate it yourself",
        )
        .unwrap();
    let secret_file = dir.0.join("data").join("iam.secret");
    assert_eq!(warning["fields"]["file"], secret_file.display().to_string());
    let (identity, issued) = first.issue_code("ada@example.com");
    first.stop();

    let secret = std::fs::read_to_string(&secret_file).unwrap();
    let second = Server::start(iam_recovery(&dsn));
    let mut fetched: serde_json::Value = reqwest::blocking::Client::new()
        .get(format!(
            "{}/admin/identities/{}",
            second.admin,
            identity["id"].as_str().unwrap()
        ))
        .bearer_auth(ADMIN_KEY)
        .send()
        .unwrap()
        .json()
        .unwrap();
    // The same identity; only the port in its schema URL moved with the new listener.
    fetched["schema_url"] = identity["schema_url"].clone();
    assert_eq!(fetched, identity);
    second.stop();
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), secret);

    // The outstanding code still verifies under the kept secret; only its hash is stored.
    let code = issued["recovery_code"].as_str().unwrap();
    let mut conn = SqliteConnection::establish(&database.display().to_string()).unwrap();
    let hashes: Vec<Hash> = diesel::sql_query("SELECT code_hash FROM recovery_codes")
        .load(&mut conn)
        .unwrap();
    let secrets = Secrets::new(vec![secret.trim().to_owned()]).unwrap();
    assert_eq!(hashes.len(), 1);
    assert!(secrets.verify(code, &CodeHash::from_stored(hashes[0].code_hash.clone())));
    let raw = std::fs::read(&database).unwrap();
    assert!(
        !raw.windows(code.len()).any(|w| w == code.as_bytes()),
        "the code is in the database file"
    );
}

#[test]
fn migrate_creates_the_database_file() {
    let dir = temp_dir();
    let database = dir.0.join("fresh.sqlite");
    let output = run(iam_recovery(&format!("sqlite://{}", database.display())).arg("migrate"));
    assert!(output.status.success(), "{output:?}");
    assert!(database.exists());
    assert!(
        !dir.0.join("fresh.secret").exists(),
        "migrate needs no secret"
    );
}
