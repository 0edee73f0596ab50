use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use postgres_store::test_support::TestDatabase;

/// The result of a `SELECT count(*) AS count ...`.
fn count(conn: &mut diesel::PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap()
        .count
}

const TABLES: &str = "SELECT count(*) AS count FROM information_schema.tables \
     WHERE table_schema = current_schema() \
       AND table_name IN ('identities', 'recovery_flows', 'recovery_codes')";

/// Every migration in the repository, so that adding one needs no change here.
fn migration_count() -> usize {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/postgres");
    std::fs::read_dir(folder)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().join("up.sql").exists())
        .count()
}

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDatabase::new();
    let mut conn = db.connection();
    assert_eq!(count(&mut conn, TABLES), 3);

    postgres_store::test_support::revert_all_migrations(&db.url).unwrap();
    assert_eq!(count(&mut conn, TABLES), 0);

    let applied = postgres_store::run_migrations(&db.url).unwrap();
    assert_eq!(applied.len(), migration_count());
    assert_eq!(count(&mut conn, TABLES), 3);
    assert!(postgres_store::run_migrations(&db.url).unwrap().is_empty());
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = Text)]
    name: String,
}

#[test]
fn every_foreign_key_has_an_index() {
    let db = TestDatabase::new();
    let unindexed: Vec<String> = diesel::sql_query(
        "SELECT c.conname::text AS name FROM pg_constraint c
         WHERE c.contype = 'f'
           AND c.connamespace = current_schema()::regnamespace
           AND NOT EXISTS (
             SELECT 1 FROM pg_index i
             WHERE i.indrelid = c.conrelid
               AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)",
    )
    .load::<ForeignKey>(&mut db.connection())
    .unwrap()
    .into_iter()
    .map(|fk| fk.name)
    .collect();
    assert!(
        unindexed.is_empty(),
        "foreign keys without an index: {unindexed:?}"
    );
}
