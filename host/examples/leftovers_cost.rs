//! Benchmark helper: what the check of what a handler left costs a
//! command, on PostgreSQL: the catalog read before the handler's first call
//! and the one after its last (`faber_db::db::leftovers`), each command pays
//! both once.
//!
//! `leftovers_cost SERVER_URL ROUNDS` makes a scratch database and prints
//! one JSON object of medians in milliseconds: `fresh` (a database holding
//! only a tracking table, as after `init`) and `grown` (the same with 100
//! migrations' worth of objects: a table, its index, a function and a
//! trigger each). The database is dropped afterwards.

use std::path::Path;
use std::time::Instant;

use faber_db::db::leftovers::{self, Expect};
use faber_db::db::{ConnectionString, Database, Server};

const TABLE: &str = "_prisma_migrations";

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Median milliseconds of one snapshot and one check.
async fn measure(database: &mut Database, target: &ConnectionString, rounds: usize) -> f64 {
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let before = leftovers::snapshot(database).await.expect("snapshot");
        leftovers::check(database, target, TABLE, &before, Expect::Migrated)
            .await
            .expect("check");
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    median(samples)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: leftovers_cost SERVER_URL ROUNDS");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(10);
    let target = ConnectionString::parse(&url, "SERVER_URL", Path::new(".")).expect("a URL");
    let mut server = Server::connect(&target).await.expect("server");
    let name = format!("fdb_bench_leftovers_{}", std::process::id());
    if server.create_database(&target, &name).await.is_err() {
        panic!("cannot create {name}");
    }
    let mut database = server.open(&target, &name).await.expect("session");
    let tracking = target.with_database(&name).qualify(TABLE);
    database
        .execute(
            &format!("CREATE TABLE {tracking} (id VARCHAR(36) PRIMARY KEY, name TEXT)"),
            &[],
        )
        .await
        .expect("tracking table");
    let fresh = measure(&mut database, &target, rounds).await;
    let grown: String = (0..100)
        .map(|i| {
            format!(
                "CREATE TABLE public.t{i} (id INTEGER PRIMARY KEY, n INTEGER); \
                 CREATE INDEX t{i}_n ON public.t{i} (n); \
                 CREATE FUNCTION public.f{i}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
                 CREATE TRIGGER t{i}_f BEFORE INSERT ON public.t{i} FOR EACH ROW EXECUTE FUNCTION public.f{i}(); "
            )
        })
        .collect();
    database.execute(&grown, &[]).await.expect("objects");
    let grown = measure(&mut database, &target, rounds).await;
    database.close().await;
    server
        .drop_database(&target, &name)
        .await
        .expect("drop the scratch database");
    println!("{}", serde_json::json!({ "fresh": fresh, "grown": grown }));
}
