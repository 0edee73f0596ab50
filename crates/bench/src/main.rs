//! `bench issue|redeem|scale|isolation [options]`: starts the release server on a fresh
//! database, drives it at a fixed concurrency, runs pgbench on the same database doing the same
//! work, and prints (and writes as JSON) how close the service comes to the database's own
//! speed; `isolation` measures instead how much a flood of the public login slows the admin API.

mod args;
mod cpu;
mod database;
mod flood;
mod load;
mod pgbench;
mod report;
mod server;

use std::process::ExitCode;

use args::{Args, Mode, Store};
use report::{Isolation, Row};
use server::Setup;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("bench: {message}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("bench: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let binary = server::build_release()?;
    let mut rows = Vec::new();
    let mut isolated = None;
    match args.mode {
        Mode::Issue => rows.extend(issue(args, &binary, args.identities).await?),
        Mode::Redeem => rows.extend(redeem(args, &binary).await?),
        Mode::Scale => {
            for identities in [10_000, 1_000_000] {
                rows.extend(issue(args, &binary, identities).await?);
            }
        }
        Mode::Isolation => {
            let (measured, found) = isolation(args, &binary).await?;
            rows.extend(measured);
            isolated = Some(found);
        }
    }
    let table = report::table(args, &rows, isolated.as_ref());
    println!("{table}");
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(args, &rows, isolated.as_ref()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("written to {}", path.display());
    }
    Ok(())
}

/// Issuing codes: the service, then pgbench's two baselines on the same database.
async fn issue(
    args: &Args,
    binary: &std::path::Path,
    identities: usize,
) -> Result<Vec<Row>, String> {
    let db = database::Database::create(binary, args.store, identities, &args.database_url)?;
    // With as many outstanding codes as identities, as a service in use would have.
    db.seed_codes(identities, true)?;
    db.settle()?;
    let ids = db.identity_ids()?;
    let server = server::Server::start(binary, &db, Setup::Throughput, &args.server_env)?;
    let measured = load::issue(&server, &ids, args).await?;
    let peak_rss = server.peak_rss_kib();
    server.stop();
    let mut rows = vec![Row::service(
        format!("service, {identities} identities"),
        identities,
        measured,
        peak_rss,
    )];
    if args.store == Store::Postgres {
        for baseline in [
            pgbench::Script::IssueObvious,
            pgbench::Script::IssueOneStatement,
            pgbench::Script::IssueBatched,
        ] {
            let result = pgbench::run(&db, baseline, identities, args)?;
            rows.push(Row::baseline(baseline.label(), identities, result));
        }
    }
    db.drop_database();
    Ok(rows)
}

/// Redeeming codes: pre-issued through the API, submitted through the API flow; the baselines
/// are pgbench looking the code up and consuming it, and pgbench doing the same work.
async fn redeem(args: &Args, binary: &std::path::Path) -> Result<Vec<Row>, String> {
    let db = database::Database::create(binary, args.store, args.identities, &args.database_url)?;
    db.seed_sessions()?;
    let ids = db.identity_ids()?;
    let server = server::Server::start(binary, &db, Setup::Throughput, &args.server_env)?;
    let codes = load::preissue(&server, &ids, args.codes, args.concurrency).await?;
    // The pre-issued flows and codes are analyzed before the run, as autovacuum keeps a
    // database in use analyzed.
    db.settle()?;
    let measured = load::redeem(&server, codes, args).await?;
    let peak_rss = server.peak_rss_kib();
    server.stop();
    let mut rows = vec![Row::service(
        "service: redeem".to_owned(),
        args.identities,
        measured,
        peak_rss,
    )];
    if args.store == Store::Postgres {
        db.end_sessions()?;
        // Enough fresh codes for pgbench's pace, which the service's does not limit.
        let fresh = 20_000 * usize::try_from(args.duration.as_secs().max(1)).unwrap_or(1);
        for baseline in [pgbench::Script::Redeem, pgbench::Script::RedeemSameWork] {
            db.seed_codes(fresh, false)?;
            db.settle()?;
            let result = pgbench::run(&db, baseline, fresh, args)?;
            rows.push(Row::baseline(baseline.label(), args.identities, result));
        }
    }
    db.drop_database();
    Ok(rows)
}

/// The admin API issuing codes at a modest concurrency, first alone, then while
/// `--flood-clients` addresses flood the public login route (see `flood`), on one server.
async fn isolation(args: &Args, binary: &std::path::Path) -> Result<(Vec<Row>, Isolation), String> {
    let identities = args.identities;
    let db = database::Database::create(binary, args.store, identities, &args.database_url)?;
    db.seed_codes(identities, true)?;
    db.settle()?;
    let ids = db.identity_ids()?;
    let server = server::Server::start(binary, &db, Setup::Isolation, &args.server_env)?;
    let result = async {
        let window = |from: std::time::Instant| (from, from + args.duration);
        let (from, to) = window(std::time::Instant::now() + args.warmup);
        let quiet_cpu = cpu::during(server.pid(), from, to);
        let quiet = load::issue(&server, &ids, args).await?;
        let quiet_rss = server.peak_rss_kib();
        // The flood starts with the admin clients' warm-up, and is counted over their
        // measured window.
        let (from, to) = window(std::time::Instant::now() + args.warmup);
        let flood = flood::Flood::start(&server.public, args.flood_clients, from, to);
        let flood_cpu = cpu::during(server.pid(), from, to);
        let flooded = load::issue(&server, &ids, args).await;
        let outcomes = flood.stop()?;
        let flooded = flooded?;
        let flood_rss = server.peak_rss_kib();
        let quiet = Row::service(
            "admin issue, no flood".to_owned(),
            identities,
            quiet,
            quiet_rss,
        );
        let flooded = Row::service(
            format!("admin issue, {} addresses flooding", args.flood_clients),
            identities,
            flooded,
            flood_rss,
        );
        let found = Isolation {
            quiet_p99_ms: quiet.p99_ms,
            flood_p99_ms: flooded.p99_ms,
            flood_clients: args.flood_clients,
            flood: outcomes,
            quiet_cpu: quiet_cpu.await.ok(),
            flood_cpu: flood_cpu.await.ok(),
        };
        Ok((vec![quiet, flooded], found))
    }
    .await;
    server.stop();
    db.drop_database();
    result
}
