use std::process::{Child, Stdio};

use diesel::RunQueryDsl;
use postgres_store::test_support::{TestDatabase, revert_all_migrations};

use crate::{SECRET, Server, iam_recovery, run};

fn tables(db: &TestDatabase) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS count FROM information_schema.tables \
         WHERE table_schema = current_schema() \
           AND table_name IN ('identities', 'recovery_flows', 'recovery_codes')",
    )
    .get_result::<Count>(&mut db.connection())
    .unwrap()
    .count
}

#[test]
fn migrate_applies_the_schema_even_when_replicas_race() {
    let db = TestDatabase::new();
    revert_all_migrations(&db.url).unwrap();
    assert_eq!(tables(&db), 0);

    let runs: Vec<Child> = (0..3)
        .map(|_| {
            iam_recovery(&db.url)
                .env("SECRETS_DEFAULT", SECRET)
                .arg("migrate")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for run in runs {
        let output = run.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    assert_eq!(tables(&db), 3);
}

#[test]
fn postgres_requires_configured_secrets() {
    let db = TestDatabase::new();
    let output = run(&mut iam_recovery(&db.url));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("secrets.default"));
}

#[test]
fn an_unreachable_database_fails_start_up() {
    let output =
        run(iam_recovery("postgres://postgres@127.0.0.1:1/none").env("SECRETS_DEFAULT", SECRET));
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cannot start"), "{stdout}");
}

#[test]
fn serve_migrates_and_issues_codes() {
    let db = TestDatabase::new();
    revert_all_migrations(&db.url).unwrap();
    let mut command = iam_recovery(&db.url);
    command.env("SECRETS_DEFAULT", SECRET);
    let server = Server::start(command);
    assert_eq!(tables(&db), 3);
    let (_, issued) = server.issue_code("ada@example.com");
    assert_eq!(issued["recovery_code"].as_str().unwrap().len(), 6);
}
