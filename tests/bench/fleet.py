#!/usr/bin/env python3
"""faber-db fleet benchmarks.

Measures, on this machine, one fleet environment of many tenant databases,
each with 5 pending migrations (a table with a primary key, a default and an
index each):
  1. `faber-db migrate` over a fleet of PostgreSQL tenant databases (1000),
     against its floor (host/examples/migrate_floor.rs --fleet: the same SQL
     and Prisma's bookkeeping in one small program, at the same
     concurrency), with its peak memory and the peak of connections open to
     the tenants' databases;
  2. a loop of single-database `faber-db migrate` runs, one tenant after
     another, timed on a sample and extrapolated to the fleet;
  3. `prisma migrate deploy` once per tenant, timed on a sample and
     extrapolated (skipped when Prisma is not installed);
  4. `faber-db status` of the fleet, every tenant up to date;
  5. the cost per tenant as a SQLite-file fleet grows (100, 1000, 10000).

Timing is never asserted: the script fails only when something cannot run.

usage: python3 tests/bench/fleet.py [--short] [--profile release|debug] [--markdown FILE] [--raw FILE]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import (PG, PRISMA_CLI, PRISMA_NODE, PRISMA_PG_CONFIG, PRISMA_PG_SCHEMA, TRACKING_TABLE,  # noqa: E402
                   build, machine, prisma_deploy_until_applied, psql, run_timed, write_migrations)

MIGRATIONS = 5


def migration_sql(i):
    return (f'CREATE TABLE "step_{i}" ("id" SERIAL PRIMARY KEY, "name" TEXT NOT NULL, '
            f'"created_at" TIMESTAMPTZ NOT NULL DEFAULT now());\n'
            f'CREATE INDEX "step_{i}_name_idx" ON "step_{i}" ("name");\n')


def psql_script(script):
    """One psql process for many statements (`\\c` switches databases)."""
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", f"{PG}/postgres"], input=script.encode(),
                   check=True, stdout=subprocess.DEVNULL, env=quiet)


class Fleet:
    """`count` PostgreSQL databases named `<prefix>_t<i>`, each holding
    Prisma's empty tracking table, and a project whose `prod` is that fleet."""

    def __init__(self, scratch, count):
        self.count = count
        self.prefix = f"fdbbench_{os.getpid()}"
        self.names = [f"{self.prefix}_t{i:05d}" for i in range(count)]
        self.dir = Path(tempfile.mkdtemp(dir=scratch))
        config_dir = self.dir / ".fractary/plugins/faber-db"
        config_dir.mkdir(parents=True)
        (config_dir / "config.json").write_text(json.dumps({
            "database": {"provider": "postgresql", "hosting": "local", "migration_tool": "prisma"},
            "environments": {
                "prod": {"connection_string_env": "PROD_DATABASE_URL",
                         "fleet": {"tenants": {"databases_like": f"{self.prefix}_%"}}},
                "one": {"connection_string_env": "ONE_DATABASE_URL"},
            },
            "migrations": {"directory": "prisma/migrations"},
        }))
        self.migrations = self.dir / "prisma/migrations"
        write_migrations(self.migrations, MIGRATIONS, sql=migration_sql)
        (self.migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
        psql_script("".join(f'CREATE DATABASE "{name}";\n\\c "{name}"\n{TRACKING_TABLE};\n\\c postgres\n'
                            for name in self.names))
        (self.dir / "urls.txt").write_text("".join(f"{PG}/{name}?sslmode=disable\n" for name in self.names))

    def reset(self):
        """Every tenant back to 5 pending migrations."""
        drops = "".join(f'DROP TABLE IF EXISTS "step_{i}";' for i in range(MIGRATIONS))
        psql_script("".join(f'\\c "{name}"\n{drops} TRUNCATE "_prisma_migrations";\n' for name in self.names))

    def drop(self):
        psql_script("".join(f'DROP DATABASE IF EXISTS "{name}";\n' for name in self.names))


class Connections:
    """The peak of connections open to the fleet's databases, sampled."""

    def __init__(self, prefix):
        self.prefix, self.peak, self.running = prefix, 0, True
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        sql = f"SELECT count(*) FROM pg_stat_activity WHERE datname LIKE '{self.prefix}%'"
        while self.running:
            out = subprocess.run(["psql", "-tA", f"{PG}/postgres", "-c", sql], capture_output=True, text=True)
            if out.returncode == 0:
                self.peak = max(self.peak, int(out.stdout.strip() or 0))
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak


def env(project, cache, **variables):
    return dict(os.environ, FABER_DB_CACHE_DIR=str(cache), FABER_DB_CWD=str(project), **variables)


def fleet_migrate(binary, fleet, cache):
    """(seconds, peak RSS KiB, peak connections, the report's result)."""
    out = []
    sampler = Connections(fleet.prefix)
    seconds, rss = run_timed([binary, "migrate", "prod", "--approve", "--json", "--cwd", fleet.dir],
                             env=env(fleet.dir, cache, PROD_DATABASE_URL=PG), output=out)
    peak = sampler.stop()
    result = json.loads(out[0])["result"]
    if result["counts"].get("migrated") != fleet.count:
        sys.exit(f"fleet migrate did not migrate every tenant: {result['counts']}")
    return seconds, rss, peak, result


def sqlite_fleet(binary, scratch, count, cache):
    """Seconds of a fleet `migrate` over `count` new SQLite files."""
    project = Path(tempfile.mkdtemp(dir=scratch))
    config_dir = project / ".fractary/plugins/faber-db"
    config_dir.mkdir(parents=True)
    (config_dir / "config.json").write_text(json.dumps({
        "database": {"provider": "sqlite", "hosting": "local", "migration_tool": "prisma"},
        "environments": {"prod": {"fleet": {"tenants": {"sqlite_files": "tenants/*.db"}}}},
        "migrations": {"directory": "prisma/migrations"},
    }))
    write_migrations(project / "prisma/migrations", MIGRATIONS,
                     sql=lambda i: f"CREATE TABLE step_{i} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                                   f"CREATE INDEX step_{i}_name_idx ON step_{i} (name);\n")
    (project / "prisma/migrations/migration_lock.toml").write_text('provider = "sqlite"\n')
    tenants = project / "tenants"
    tenants.mkdir()
    for i in range(count):
        (tenants / f"t{i:05d}.db").touch()
    out = []
    seconds, rss = run_timed([binary, "migrate", "prod", "--approve", "--output", "ndjson", "--cwd", project],
                             env=env(project, cache), output=out)
    summary = json.loads(out[0].splitlines()[-1])["result"]
    if summary["counts"].get("migrated") != count:
        sys.exit(f"SQLite fleet migrate did not migrate every tenant: {summary['counts']}")
    return seconds, rss, summary["concurrency"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="small fleets: proves it runs")
    parser.add_argument("--profile", choices=["release", "debug"], default="release")
    parser.add_argument("--markdown", type=Path, help="also write the results table to this file")
    parser.add_argument("--raw", type=Path, help="also write every measurement to this JSON file")
    args = parser.parse_args()
    pg_count = 10 if args.short else 1000
    sample = 3 if args.short else 50
    prisma_sample = 1 if args.short else 10
    sqlite_sizes = [20, 50] if args.short else [100, 1000, 10000]

    binary, examples = build(args.profile)
    raw = {"machine": machine(), "profile": args.profile, "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory(prefix="faber-fleet-bench-") as scratch:
        cache = Path(scratch) / "cache"
        fleet = Fleet(scratch, pg_count)
        try:
            # The first run compiles the handler into the cache; not timed.
            fleet_migrate(binary, fleet, cache)
            fleet.reset()
            migrate, rss, peak, result = fleet_migrate(binary, fleet, cache)
            concurrency = result["concurrency"]
            fleet.reset()
            floor, _ = run_timed([examples / "migrate_floor", "--fleet", fleet.dir / "urls.txt",
                                  fleet.migrations, str(concurrency)])
            status, _ = run_timed([binary, "status", "prod", "--json", "--cwd", fleet.dir],
                                  env=env(fleet.dir, cache, PROD_DATABASE_URL=PG))
            fleet.reset()
            started = time.perf_counter()
            for name in fleet.names[:sample]:
                run_timed([binary, "migrate", "one", "--approve", "--json", "--cwd", fleet.dir],
                          env=env(fleet.dir, cache, ONE_DATABASE_URL=f"{PG}/{name}"))
            loop = (time.perf_counter() - started) / sample * pg_count
            prisma = None
            if PRISMA_CLI.is_file():
                (fleet.dir / "node_modules").symlink_to(PRISMA_NODE / "node_modules")
                (fleet.dir / "prisma/schema.prisma").write_text(PRISMA_PG_SCHEMA)
                (fleet.dir / "prisma.config.ts").write_text(PRISMA_PG_CONFIG)
                names = fleet.names[sample:sample + prisma_sample]
                prisma = sum(prisma_deploy_until_applied(fleet.dir, f"{PG}/{name}") for name in names)
                prisma = prisma / len(names) * pg_count
        finally:
            fleet.drop()
        sqlite = {count: sqlite_fleet(binary, scratch, count, cache) for count in sqlite_sizes}

    ms = lambda seconds: f"{seconds * 1000:.0f} ms"
    per = lambda seconds, count: f"{seconds / count * 1000:.2f} ms per tenant"
    rows = [
        (f"fleet migrate, {pg_count} PostgreSQL tenants × {MIGRATIONS} migrations, concurrency {concurrency}",
         ms(migrate), f"{migrate / floor:.2f}× its floor; {per(migrate, pg_count)}"),
        (f"floor: the same SQL and Prisma's bookkeeping, one small program, concurrency {concurrency}",
         ms(floor), per(floor, pg_count)),
        (f"a loop of single faber-db migrate runs, one tenant after another (timed on {sample}, extrapolated)",
         ms(loop), f"the fleet migrate takes {migrate / loop:.2f}× its time"),
        *([(f"prisma migrate deploy once per tenant (timed on {prisma_sample}, extrapolated)", ms(prisma),
            f"the fleet migrate takes {migrate / prisma:.3f}× its time")] if prisma else []),
        (f"fleet status, {pg_count} up-to-date PostgreSQL tenants", ms(status), per(status, pg_count)),
        ("peak RSS of the fleet migrate process", f"{rss / 1024:.1f} MiB", ""),
        ("peak of connections open to the tenants' databases (sampled every 50 ms)", str(peak),
         f"promised at most {result['connection_limit']} (the server's own connection of each tenant run is on the maintenance database)"),
        *[(f"fleet migrate, {count} SQLite tenant files × {MIGRATIONS} migrations, concurrency {c}", ms(seconds),
           per(seconds, count)) for count, (seconds, _, c) in sqlite.items()],
    ]
    raw.update(pg_tenants=pg_count, migrate_s=migrate, floor_s=floor, loop_extrapolated_s=loop,
               prisma_extrapolated_s=prisma, status_s=status, peak_rss_kib=rss, peak_connections=peak,
               connection_limit=result["connection_limit"], concurrency=concurrency,
               sqlite={str(count): {"seconds": s, "peak_rss_kib": r} for count, (s, r, _) in sqlite.items()})
    table = ["| measurement | value | compared with |", "| --- | ---: | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    header = f"Machine: {machine()}. Profile: {args.profile}. One run. Date: {time.strftime('%Y-%m-%d')}."
    text = header + "\n\n" + "\n".join(table) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.raw:
        args.raw.write_text(json.dumps(raw, indent=1) + "\n")


if __name__ == "__main__":
    main()
