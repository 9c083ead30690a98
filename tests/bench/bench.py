#!/usr/bin/env python3
"""faber-db benchmarks.

Measures, as medians over repeated runs on this machine:
  1. `faber-db init dev` end to end on PostgreSQL and SQLite, with the compiled
     handler cached (warm) and with an empty cache (cold), and on PostgreSQL
     with the handler on the connection's own session (no handler account);
  2. two floors (host/examples/sql_floor.rs): the minimal one (the least SQL
     that initializes a database, in one small program; also through psql),
     and the equal-work one (every statement, connection and file `init`
     makes, in one small program);
  3. the component's own costs (host/examples/component_costs.rs), and the
     check of what a handler left in its database (host/examples/
     leftovers_cost.rs: the catalog read before and after, on a database
     holding only a tracking table and on one with 100 migrations' objects);
  4. growth: 1, 10 and 100 inits in sequence, and a project whose migrations
     folder holds 1000 migrations;
  5. the peak resident memory of an init process;
  6. `faber-db status`: three PostgreSQL environments at once against the
     slowest one alone, and a SQLite environment with a large folder;
  7. `faber-db migrate`: a folder of 100 migrations applied on PostgreSQL
     against its floor (host/examples/migrate_floor.rs: the same SQL and
     Prisma's bookkeeping in one small program), and the cost per migration
     as the folder grows to 1000;
  8. the tool people use today: Prisma's own `prisma migrate deploy` applying
     the same baseline to a fresh SQLite file, and the same 100 migrations as
     (7) on PostgreSQL (Prisma 6.19 with its WebAssembly engine and driver
     adapters, as installed by tests/run.sh; skipped when it is not installed);
  9. with --history FOLDER: a real project's Prisma migrations folder applied
     on PostgreSQL by `faber-db migrate`, by its floor and by Prisma's own
     `migrate deploy`.

Timing is never asserted: the script fails only when something cannot run.

usage: python3 tests/bench/bench.py [--rounds N] [--short] [--profile release|debug] [--markdown FILE] [--raw FILE]
                                   [--history FOLDER]
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("FABER_DB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")
PRISMA_NODE = Path(os.environ.get("FABER_DB_PRISMA_NODE", ROOT / "target/prisma-node"))

PRISMA_SCHEMA = """generator client {
  provider   = "prisma-client-js"
  engineType = "client"
}

datasource db {
  provider = "sqlite"
  url      = "file:../dev.db"
}
"""

PRISMA_CONFIG = """import { defineConfig } from "prisma/config";
import { PrismaLibSQL } from "@prisma/adapter-libsql";
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  adapter: async () => new PrismaLibSQL({ url: "file:./dev.db" }),
});
"""
# The same project's Prisma on PostgreSQL, its URL from DATABASE_URL.
PRISMA_PG_SCHEMA = PRISMA_SCHEMA.replace('"sqlite"', '"postgresql"').replace('"file:../dev.db"', 'env("DATABASE_URL")')
PRISMA_PG_CONFIG = PRISMA_CONFIG.replace(
    'import { PrismaLibSQL } from "@prisma/adapter-libsql";', 'import { PrismaPg } from "@prisma/adapter-pg";').replace(
    'new PrismaLibSQL({ url: "file:./dev.db" })', 'new PrismaPg({ connectionString: process.env.DATABASE_URL })')
PRISMA_CLI = PRISMA_NODE / "node_modules/prisma/build/index.js"
WASM = ROOT / "target/wasm32-wasip2/release"
# Built by tests/run.sh (componentize-py); its rows are skipped without it.
PYTHON_WASM = WASM / "python_migration_tool.wasm"
PRISMA_ENV = dict(os.environ, CHECKPOINT_DISABLE="1", PRISMA_HIDE_UPDATE_MESSAGE="1")

# Prisma's tracking table on PostgreSQL, as its schema engine creates it.
TRACKING_TABLE = (
    'CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, '
    '"finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, '
    '"started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)')


def run_timed(argv, env=None, cwd=None, output=None, cpu=None):
    """Runs argv; returns (seconds, peak RSS in KiB). Fails loudly on error.
    `output`, a list, receives the process's stdout; `cpu`, a list, the
    process's own CPU time in seconds. Its output goes to files, not pipes:
    a report larger than a pipe's buffer would block the process while this
    waits for it."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"benchmark command failed: {' '.join(map(str, argv))}\n{stdout.decode()}\n{stderr.decode()}")
    if output is not None:
        output.append(stdout)
    if cpu is not None:
        cpu.append(usage.ru_utime + usage.ru_stime)
    return elapsed, usage.ru_maxrss


def machine_busy():
    """The whole machine's busy CPU time so far, in seconds: every process,
    the database server's included (/proc/stat, all but idle and iowait)."""
    ticks = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def write_migrations(migrations, count, year="2099",
                     sql=lambda i: f"CREATE TABLE step_{i} (id INTEGER);\n"):
    """`count` Prisma migrations in `migrations`, their timestamps in `year`
    (2099: after today's baseline)."""
    for i in range(count):
        migration = migrations / f"{year}{i:010d}_step_{i}"
        migration.mkdir(parents=True, exist_ok=True)
        (migration / "migration.sql").write_text(sql(i))


def prisma_deploy_until_applied(project, url):
    """Seconds from starting `prisma migrate deploy` in `project` until it says
    its migrations are applied. Its process then lingers about ten seconds
    holding its lock (its engine's lock timer), which is not its work: it is
    ended there, untimed."""
    elapsed, said = prisma_deploy(project, url)
    if elapsed is None:
        sys.exit(f"prisma migrate deploy failed in {project}:\n{said}")
    return elapsed


def prisma_deploy(project, url):
    """(seconds until applied, or None where it failed; what it said)."""
    start = time.perf_counter()
    proc = subprocess.Popen(["node", PRISMA_CLI, "migrate", "deploy"], cwd=project,
                            env=dict(PRISMA_ENV, DATABASE_URL=url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said = []
    for line in proc.stdout:
        said.append(line)
        if "successfully applied" in line:
            elapsed = time.perf_counter() - start
            proc.terminate()
            proc.wait()
            return elapsed, "".join(said)
    proc.wait()
    return None, "".join(said)


def psql(sql, database="postgres"):
    subprocess.run(["psql", f"{PG}/{database}", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True)


def drop_database(name):
    """Untimed: the database, and a checkpoint, so that the next timed
    `CREATE DATABASE` meets the server in the same state as every other
    (otherwise it pays for the drop's deferred work, a few hundred ms at
    random)."""
    psql(f'DROP DATABASE "{name}"')
    psql("CHECKPOINT")


def build(profile):
    flags = ["--release"] if profile == "release" else []
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve()
    subprocess.run(["cargo", "build", "-q", "--release", "--target", "wasm32-wasip2",
                    "-p", "handler-db-prisma", "-p", "handler-db-dbmate", "-p", "handler-cloud-aws"],
                   cwd=ROOT, check=True)
    # The components just built are the ones the host embeds, as in tests/run.sh
    # (the same value, so a build after the tests reuses theirs).
    bundled = dict(os.environ, FABER_DB_BUNDLED_DIR=str(target_dir / "wasm32-wasip2/release"))
    subprocess.run(["cargo", "build", "-q", "-p", "faber-db", "--bins", "--examples", *flags],
                   cwd=ROOT, check=True, env=bundled)
    target = target_dir / profile
    return target / "faber-db", target / "examples"


class Project:
    """A bench project folder with a configuration for `provider`."""

    def __init__(self, root, provider, handler_privileges="least"):
        self.dir = Path(root) / f"bench-{provider}-{handler_privileges}"
        config_dir = self.dir / ".fractary/plugins/faber-db"
        config_dir.mkdir(parents=True)
        (config_dir / "config.json").write_text(json.dumps({
            "database": {"provider": provider, "hosting": "local", "migration_tool": "prisma"},
            "environments": {"dev": {"connection_string_env": "DEV_DATABASE_URL",
                                     "handler_privileges": handler_privileges}},
        }))
        self.migrations = self.dir / "prisma/migrations"

    def reset(self):
        shutil.rmtree(self.migrations, ignore_errors=True)


class Bench:
    def __init__(self, args, binary, examples, scratch):
        self.args, self.binary, self.examples, self.scratch = args, binary, examples, Path(scratch)
        self.counter = 0
        # Each init's steps, in seconds, by project and step: step 13 is the
        # handler's own work without `CREATE DATABASE`, whose time swings by
        # hundreds of ms; all of them are where an init's time goes.
        self.steps = {}
        self.warm_cache = self.scratch / "cache-warm"
        self.peak_kib = 0

    def name(self):
        self.counter += 1
        return f"fdb_bench_{os.getpid()}_{self.counter}"

    def env(self, url, cache):
        env = dict(os.environ, DEV_DATABASE_URL=url, FABER_DB_CACHE_DIR=str(cache))
        env.pop("FABER_DB_CWD", None)
        return env

    def init(self, project, provider, cache, extra=()):
        """One timed init of a new database; the database is dropped afterwards, untimed."""
        name = self.name()
        url = f"{PG}/{name}" if provider == "postgresql" else f"file:./{name}.db"
        argv = [self.binary, "init", "dev", "--json", "--cwd", project.dir, *extra]
        report = []
        elapsed, rss = run_timed(argv, env=self.env(url, cache), output=report)
        self.peak_kib = max(self.peak_kib, rss)
        steps = self.steps.setdefault(project.dir.name, {})
        for step in json.loads(report[0])["result"]["steps"]:
            steps.setdefault((step["number"], step["name"]), []).append(step["duration_ms"] / 1000)
        steps.setdefault((0, "the whole process"), []).append(elapsed)
        if provider == "postgresql":
            drop_database(name)
        else:
            (project.dir / f"{name}.db").unlink()
        return elapsed

    def init_samples(self, project, provider, warm):
        samples = []
        for _ in range(self.args.rounds):
            project.reset()
            cache = self.warm_cache if warm else Path(tempfile.mkdtemp(dir=self.scratch))
            samples.append(self.init(project, provider, cache))
        return samples

    def floor_in_process(self, *extra):
        """One timed run of the floor program; its database dropped, untimed."""
        name = self.name()
        elapsed, _ = run_timed([self.examples / "sql_floor", PG, name, *extra])
        drop_database(name)
        return elapsed

    def floor_psql(self):
        """One timed run of the same SQL through psql."""
        name = self.name()
        script = (
            f"SELECT 1 FROM pg_database WHERE datname = '{name}';\n"
            f'CREATE DATABASE "{name}";\n'
            f'\\c "{name}"\n'
            f"{TRACKING_TABLE};\n"
            "INSERT INTO \"_prisma_migrations\" (id, checksum, migration_name, finished_at, applied_steps_count) "
            "VALUES ('00000000-0000-4000-8000-000000000000', 'x', '20260101000000_init', now(), 1);\n"
            "SELECT 1;\n"
        )
        path = self.scratch / "floor.sql"
        path.write_text(script)
        # Without TLS, as init and the in-process floor reach a local server.
        elapsed, _ = run_timed(["psql", f"{PG}/postgres", "-q", "-v", "ON_ERROR_STOP=1", "-f", path],
                               env=dict(os.environ, PGSSLMODE="disable"))
        drop_database(name)
        return elapsed

    def component_costs(self, wasm, rounds, compiler="winch"):
        out = subprocess.run([self.examples / "component_costs", wasm, str(rounds), compiler],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def leftover_costs(self):
        out = subprocess.run([self.examples / "leftovers_cost", PG, str(self.args.rounds)],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def sequence(self, project, count):
        """Total seconds for `count` inits in a row, one project, warm cache."""
        project.reset()
        return sum(self.init(project, "postgresql", self.warm_cache) for _ in range(count))

    def prisma_deploy(self, rounds):
        """`prisma migrate deploy` of a one-migration folder onto a fresh SQLite
        file: (first runs, each in a project of its own; repeated runs in one
        project), as lists of seconds."""
        if not PRISMA_CLI.is_file():
            return None
        first = []
        for _ in range(rounds):
            project = self.prisma_project()
            elapsed, _ = run_timed(["node", PRISMA_CLI, "migrate", "deploy"], env=PRISMA_ENV, cwd=project)
            first.append(elapsed)
        repeated = []
        project = self.prisma_project()
        for _ in range(rounds + 1):
            (project / "dev.db").unlink(missing_ok=True)
            elapsed, _ = run_timed(["node", PRISMA_CLI, "migrate", "deploy"], env=PRISMA_ENV, cwd=project)
            repeated.append(elapsed)
        return first, repeated[1:]

    def prisma_project(self):
        project = Path(tempfile.mkdtemp(dir=self.scratch))
        (project / "node_modules").symlink_to(PRISMA_NODE / "node_modules")
        migration = project / "prisma/migrations/20260101000000_init"
        migration.mkdir(parents=True)
        (migration / "migration.sql").write_text("-- This is an empty migration.")
        (project / "prisma/migrations/migration_lock.toml").write_text(
            '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\n'
            'provider = "sqlite"\n')
        (project / "prisma/schema.prisma").write_text(PRISMA_SCHEMA)
        (project / "prisma.config.ts").write_text(PRISMA_CONFIG)
        return project

    def large_folder(self, count):
        """On SQLite, where no `CREATE DATABASE` noise hides the handler's cost."""
        project = Project(tempfile.mkdtemp(dir=self.scratch), "sqlite")
        # Named before today's baseline, as a project's earlier migrations are.
        write_migrations(project.migrations, count, year="2026")
        return [self.init(project, "sqlite", self.warm_cache) for _ in range(self.args.rounds)]


    def migrate_project(self, count):
        """A PostgreSQL project whose folder holds `count` migrations, each a
        table with a primary key, a default and an index."""
        project = Project(tempfile.mkdtemp(dir=self.scratch), "postgresql")
        write_migrations(project.migrations, count, sql=lambda i: (
            f'CREATE TABLE "step_{i}" ("id" SERIAL PRIMARY KEY, "name" TEXT NOT NULL, '
            f'"created_at" TIMESTAMPTZ NOT NULL DEFAULT now());\n'
            f'CREATE INDEX "step_{i}_name_idx" ON "step_{i}" ("name");\n'))
        (project.migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
        return self.with_prisma(project)

    def history_project(self, folder, before=None):
        """A PostgreSQL project holding a copy of a real project's Prisma
        migrations folder (with `before`, only the migrations before that one)."""
        project = Project(tempfile.mkdtemp(dir=self.scratch), "postgresql")
        later = lambda _, names: [n for n in names if before is not None and n >= before and n[:1].isdigit()]
        shutil.copytree(folder, project.migrations, ignore=later)
        return self.with_prisma(project)

    def prisma_stops_at(self, project):
        """The migration Prisma's own `migrate deploy` fails at in `project`,
        with its error, or None when it applies them all."""
        name = self.tracked_database()
        elapsed, said = prisma_deploy(project.dir, f"{PG}/{name}")
        drop_database(name)
        if elapsed is not None:
            return None
        stopped = re.search(r'migration_name="([^"]+)"', said)
        if stopped is None:
            sys.exit(f"prisma migrate deploy failed in {project.dir}:\n{said}")
        error = next((line.strip() for line in said.splitlines() if line.startswith("Error querying")), "")
        return stopped.group(1), error

    def with_prisma(self, project):
        """Prisma's own CLI set up in `project`, on the same folder."""
        (project.dir / "node_modules").symlink_to(PRISMA_NODE / "node_modules")
        (project.dir / "prisma/schema.prisma").write_text(PRISMA_PG_SCHEMA)
        (project.dir / "prisma.config.ts").write_text(PRISMA_PG_CONFIG)
        return project

    def tracked_database(self):
        """Untimed: a new database holding Prisma's empty tracking table."""
        name = self.name()
        psql(f'CREATE DATABASE "{name}"')
        psql(TRACKING_TABLE, name)
        return name

    def migrate_round(self, project, prisma=False):
        """One timed `faber-db migrate` of the project's folder, one run of its
        floor and (with `prisma`) one `prisma migrate deploy`, each onto a
        database of its own in the same state."""
        name = self.tracked_database()
        argv = [self.binary, "migrate", "dev", "--approve", "--json", "--cwd", project.dir]
        migrate, _ = run_timed(argv, env=self.env(f"{PG}/{name}", self.warm_cache))
        drop_database(name)
        name = self.tracked_database()
        floor, _ = run_timed([self.examples / "migrate_floor", f"{PG}/{name}?sslmode=disable", project.migrations])
        drop_database(name)
        return migrate, floor, self.prisma_round(project) if prisma else None

    def prisma_round(self, project):
        """One timed `prisma migrate deploy` of the project's folder onto a
        database of its own, in the state `migrate_round`'s start in."""
        name = self.tracked_database()
        deploy = prisma_deploy_until_applied(project.dir, f"{PG}/{name}")
        drop_database(name)
        return deploy

    def status_project(self, provider, environments):
        """A project whose `environments` each have a database initialized
        and migrated by faber-db; returns (folder, env with every variable)."""
        folder = Path(tempfile.mkdtemp(dir=self.scratch))
        config_dir = folder / ".fractary/plugins/faber-db"
        config_dir.mkdir(parents=True)
        (config_dir / "config.json").write_text(json.dumps({
            "database": {"provider": provider, "hosting": "local", "migration_tool": "prisma"},
            "environments": {env: {"connection_string_env": f"{env.upper()}_DATABASE_URL"} for env in environments},
        }))
        variables = {}
        for env in environments:
            name = self.name()
            url = f"{PG}/{name}" if provider == "postgresql" else f"file:./{name}.db"
            variables[f"{env.upper()}_DATABASE_URL"] = url
        env = dict(self.env("", self.warm_cache), **variables)
        for environment in environments:
            for command in (["init", environment], ["migrate", environment, "--approve"]):
                run_timed([self.binary, *command, "--json", "--cwd", folder], env=env)
        return folder, env

    def status_samples(self):
        """`faber-db status` of three PostgreSQL environments at once, and of
        each alone: (all three, the slowest single one per round, CPU), in
        seconds. CPU is, per run, the whole machine's busy time and
        faber-db's own, for the three at once and for each single one."""
        environments = ("one", "two", "three")
        folder, env = self.status_project("postgresql", environments)
        cpu = {f"{run}_{whose}": [] for run in ("three", "single") for whose in ("machine", "faber_db")}

        def status(*names):
            run = "single" if names else "three"
            before = machine_busy()
            seconds = run_timed([self.binary, "status", *names, "--json", "--cwd", folder], env=env,
                                cpu=cpu[f"{run}_faber_db"])[0]
            cpu[f"{run}_machine"].append(machine_busy() - before)
            return seconds

        together, slowest = [], []
        for _ in range(self.args.rounds):
            together.append(status())
            slowest.append(max(status(name) for name in environments))
        for name, url in env.items():
            if name.endswith("_DATABASE_URL") and url.startswith(PG):
                drop_database(url.rsplit("/", 1)[1])
        return together, slowest, cpu

    def status_large_folder(self, count):
        """`faber-db status` of one SQLite environment with `count` migrations
        applied, and with one."""
        samples = []
        for size in (1, count):
            folder, env = self.status_project("sqlite", ("dev",))
            write_migrations(folder / "prisma/migrations", size)
            run_timed([self.binary, "migrate", "dev", "--approve", "--json", "--cwd", folder], env=env)
            samples.append([run_timed([self.binary, "status", "--json", "--cwd", folder], env=env)[0]
                            for _ in range(self.args.rounds)])
        return samples


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    pg = subprocess.run(["psql", f"{PG}/postgres", "-tAc", "SHOW server_version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} × {cpu}, {mem // 1024 // 1024} GiB, {platform.system()} {platform.release()}, PostgreSQL {pg}"


def status_cpu_rows(cpu, single_seconds, ms):
    """Where `status`'s time goes: the CPU one environment and three at
    once cost (means: /proc/stat counts in ticks), and the least time three
    could take on this machine's cores, against the single one's."""
    mean = {key: statistics.mean(values) for key, values in cpu.items()}
    cores = os.cpu_count()
    least = mean["three_machine"] / cores
    return [
        (f"status CPU, one PostgreSQL environment: the whole machine's busy time (mean of {len(cpu['single_machine'])})",
         ms(mean["single_machine"]), f"faber-db's own {ms(mean['single_faber_db'])}"),
        (f"status CPU, three environments at once: the whole machine's busy time (mean of {len(cpu['three_machine'])})",
         ms(mean["three_machine"]),
         f"faber-db's own {ms(mean['three_faber_db'])}; {mean['three_machine'] / mean['single_machine']:.2f}× one "
         f"environment's; spread perfectly over {cores} cores at least {ms(least)}, "
         f"{least / single_seconds:.2f}× the single one's time"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--short", action="store_true", help="few rounds, small sizes: proves it runs")
    parser.add_argument("--profile", choices=["release", "debug"], default="release")
    parser.add_argument("--markdown", type=Path, help="also write the results table to this file")
    parser.add_argument("--raw", type=Path, help="also write every sample, in seconds, to this JSON file")
    parser.add_argument("--history", type=Path,
                        help="a real project's Prisma migrations folder (PostgreSQL) to migrate as well "
                             "(BENCHMARKS.md names the one measured and where it comes from)")
    args = parser.parse_args()
    if args.short:
        args.rounds = 2
    sizes = [1, 10] if args.short else [1, 10, 100]
    folder_size = 50 if args.short else 1000

    binary, examples = build(args.profile)
    with tempfile.TemporaryDirectory(prefix="faber-bench-") as scratch:
        bench = Bench(args, binary, examples, scratch)
        pg, lite = Project(scratch, "postgresql"), Project(scratch, "sqlite")
        # The same project with the handler on the connection's own session:
        # the difference is what the handler's own account costs.
        pg_unconfined = Project(scratch, "postgresql", handler_privileges="connection")
        bench.init(pg, "postgresql", bench.warm_cache)  # fills the warm cache
        pg.reset()
        # The floors and the warm inits alternate, so all meet the server in
        # the same state (checkpoints, WAL, caches); their ratios are what count.
        samples = {key: [] for key in
                   ("floor_minimal", "floor_equal_work", "floor_psql", "init_pg_warm", "init_pg_warm_unconfined")}
        for _ in range(args.rounds):
            samples["floor_minimal"].append(bench.floor_in_process())
            samples["floor_equal_work"].append(bench.floor_in_process("--equal-work"))
            pg.reset()
            samples["init_pg_warm"].append(bench.init(pg, "postgresql", bench.warm_cache))
            pg_unconfined.reset()
            samples["init_pg_warm_unconfined"].append(bench.init(pg_unconfined, "postgresql", bench.warm_cache))
            samples["floor_psql"].append(bench.floor_psql())
        step13 = lambda project: next(times for (number, _), times in bench.steps[project.dir.name].items()
                                      if number == 13)
        samples["step13_pg_warm"] = list(step13(pg))
        samples["step13_pg_warm_unconfined"] = list(step13(pg_unconfined))
        # The warm rounds' inits only (cold and sequences come later).
        warm_steps = {key: list(times) for key, times in bench.steps[pg.dir.name].items()}
        init_profile = {key: statistics.median(times) for key, times in warm_steps.items()}
        samples["init_pg_cold"] = bench.init_samples(pg, "postgresql", warm=False)
        samples["init_sqlite_warm"] = bench.init_samples(lite, "sqlite", warm=True)
        samples["init_sqlite_cold"] = bench.init_samples(lite, "sqlite", warm=False)
        samples["large_folder"] = bench.large_folder(folder_size)
        samples["status_three"], samples["status_slowest_single"], status_cpu = bench.status_samples()
        samples["status_small_folder"], samples["status_large_folder"] = bench.status_large_folder(folder_size)
        migrate_size = 10 if args.short else 100
        project = bench.migrate_project(migrate_size)
        with_prisma = PRISMA_CLI.is_file()
        samples["migrate"], samples["migrate_floor"], prisma_pg = map(
            list, zip(*(bench.migrate_round(project, with_prisma) for _ in range(args.rounds))))
        if with_prisma:
            samples["prisma_migrate_deploy_pg"] = prisma_pg
        history_stop = None
        if args.history:
            project = bench.history_project(args.history)
            history_rounds = 1 if args.short else 3
            samples["history_migrate"], samples["history_floor"], _ = map(
                list, zip(*(bench.migrate_round(project) for _ in range(history_rounds))))
            # Prisma where it can: the whole history, else the migrations
            # before the one it fails at, with faber-db's and the floor's
            # time on the same.
            history_stop = bench.prisma_stops_at(project) if with_prisma else None
            if history_stop is not None:
                project = bench.history_project(args.history, before=history_stop[0])
                samples["history_prefix_migrate"], samples["history_prefix_floor"], samples["history_prisma"] = map(
                    list, zip(*(bench.migrate_round(project, prisma=True) for _ in range(history_rounds))))
            elif with_prisma:
                samples["history_prisma"] = [bench.prisma_round(project) for _ in range(history_rounds)]
        growth_rounds = 2 if args.short else 3
        migrate_growth = {}
        for count in ([1, 10, 50] if args.short else [1, 10, 100, 1000]):
            project = bench.migrate_project(count)
            migrate_growth[count] = [bench.migrate_round(project)[0] for _ in range(growth_rounds)]
        costs = bench.component_costs(WASM / "handler_db_prisma.wasm", args.rounds)
        # A third party's handler, the biggest there is: its first use on a
        # machine, by each compiler (Cranelift's takes tens of seconds).
        # (The short run proves the harness with the first alone.)
        python_rounds = 1 if args.short else 3
        compilers = ("winch",) if args.short else ("winch", "cranelift")
        python_costs = {compiler: bench.component_costs(PYTHON_WASM, python_rounds, compiler)
                        for compiler in compilers} if PYTHON_WASM.is_file() else {}
        leftovers = bench.leftover_costs()
        sequences = {n: bench.sequence(pg, n) for n in sizes}
        prisma = bench.prisma_deploy(min(args.rounds, 5))
        if prisma is not None:
            samples["prisma_first_run"], samples["prisma_repeated_run"] = prisma
        peak = bench.peak_kib

    median = {key: statistics.median(values) for key, values in samples.items()}
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"
    n = args.rounds
    minimal, equal = median["floor_minimal"], median["floor_equal_work"]
    against = lambda key: f"{median[key] / minimal:.2f}× minimal floor, {median[key] / equal:.2f}× equal-work floor"
    rounds = list(zip(samples["init_pg_warm"], samples["floor_minimal"]))
    paired_overhead = statistics.median(init - floor for init, floor in rounds)
    paired_ratio = statistics.median(init / floor for init, floor in rounds)
    rows = [
        (f"init dev, PostgreSQL, warm cache (median of {n})", ms(median["init_pg_warm"]), against("init_pg_warm")),
        (f"init dev, PostgreSQL, warm cache, handler on the connection's own session, no handler account (median of {n})",
         ms(median["init_pg_warm_unconfined"]), against("init_pg_warm_unconfined")),
        # CREATE DATABASE dominates both and swings by hundreds of ms; what
        # faber-db adds shows best in each round's own difference.
        (f"init dev, PostgreSQL, warm cache, minus the minimal floor of the same round (median of {n})",
         f"{paired_overhead * 1000:+.1f} ms", f"{paired_ratio:.2f}× the floor, median of each round's ratio"),
        ("the handler's own account: difference of the two medians above",
         f"{(median['init_pg_warm'] - median['init_pg_warm_unconfined']) * 1000:+.1f} ms", ""),
        (f"step 13 (initialize schema) alone, warm, handler on its own account (median of {n})",
         ms(median["step13_pg_warm"]), ""),
        (f"step 13 (initialize schema) alone, warm, handler on the connection's own session (median of {n})",
         ms(median["step13_pg_warm_unconfined"]),
         f"the account costs {(median['step13_pg_warm'] - median['step13_pg_warm_unconfined']) * 1000:+.1f} ms here"),
        (f"init dev, PostgreSQL, cold cache (median of {n})", ms(median["init_pg_cold"]), against("init_pg_cold")),
        (f"floor, minimal: the least SQL that initializes a database, one small program (median of {n})",
         ms(minimal), "1.00× minimal floor"),
        (f"floor, equal work: every statement, connection and file init makes, one small program (median of {n})",
         ms(equal), f"{equal / minimal:.2f}× minimal floor"),
        (f"floor, minimal SQL through psql (median of {n})", ms(median["floor_psql"]),
         f"{median['floor_psql'] / minimal:.2f}× minimal floor"),
        (f"init dev, SQLite, warm cache (median of {n})", ms(median["init_sqlite_warm"]), ""),
        (f"init dev, SQLite, cold cache (median of {n})", ms(median["init_sqlite_cold"]), ""),
    ]
    rows += [
        (f"status of three PostgreSQL environments at once (median of {n})", ms(median["status_three"]),
         f"{median['status_three'] / median['status_slowest_single']:.2f}× the slowest single environment's own status"),
        (f"status of one PostgreSQL environment, the slowest of the three each round (median of {n})",
         ms(median["status_slowest_single"]), ""),
        *status_cpu_rows(status_cpu, median["status_slowest_single"], ms),
        (f"status of one SQLite environment, {folder_size} migrations applied (median of {n})",
         ms(median["status_large_folder"]),
         f"{(median['status_large_folder'] - median['status_small_folder']) * 1000:+.1f} ms over one migration"),
    ]
    growth_median = {count: statistics.median(values) for count, values in migrate_growth.items()}
    rows += [
        (f"migrate dev, PostgreSQL, {migrate_size} migrations onto an empty history (median of {n})",
         ms(median["migrate"]), f"{median['migrate'] / median['migrate_floor']:.2f}× its floor"),
        (f"floor: the same {migrate_size} migrations and Prisma's bookkeeping, one small program (median of {n})",
         ms(median["migrate_floor"]), ""),
        *([(f"prisma migrate deploy, PostgreSQL, the same {migrate_size} migrations, until it reports them applied (median of {n})",
            ms(median["prisma_migrate_deploy_pg"]),
            f"faber-db's migrate takes {median['migrate'] / median['prisma_migrate_deploy_pg']:.2f}× its time")]
          if "prisma_migrate_deploy_pg" in median else []),
        *[(f"migrate dev, PostgreSQL, {count} migration(s) (median of {growth_rounds})", ms(seconds),
           f"{(seconds - growth_median[1]) / max(count - 1, 1) * 1000:.2f} ms per migration beyond the first"
           if count > 1 else "")
          for count, seconds in growth_median.items()],
    ]
    if args.history:
        names = sorted(path.parent.name for path in args.history.glob("*/migration.sql"))
        history = f"{args.history.parent.name}'s {len(names)} migrations"
        rounds_of = f"median of {len(samples['history_migrate'])}"
        rows += [
            (f"migrate dev, PostgreSQL, a real project's history: {history} onto an empty history ({rounds_of})",
             ms(median["history_migrate"]), f"{median['history_migrate'] / median['history_floor']:.2f}× its floor"),
            (f"floor: the same history and Prisma's bookkeeping, one small program ({rounds_of})",
             ms(median["history_floor"]), ""),
        ]
        prisma_key = "history_migrate"
        if history_stop is not None:
            stop, error = history_stop
            prefix = sum(name < stop for name in names)
            prisma_key = "history_prefix_migrate"
            rows += [
                (f"prisma migrate deploy of the same history: stops at migration {names.index(stop) + 1}, "
                 f"{stop} ({error})", "fails", ""),
                (f"migrate dev, PostgreSQL, the {prefix} migrations before it ({rounds_of})",
                 ms(median["history_prefix_migrate"]),
                 f"{median['history_prefix_migrate'] / median['history_prefix_floor']:.2f}× its floor"),
                (f"floor: those {prefix} migrations and Prisma's bookkeeping ({rounds_of})",
                 ms(median["history_prefix_floor"]), ""),
            ]
        if "history_prisma" in median:
            rows.append((f"prisma migrate deploy, PostgreSQL, the same {'migrations' if history_stop else 'history'}, "
                         f"until it reports them applied ({rounds_of})", ms(median["history_prisma"]),
                         f"faber-db's migrate takes {median[prisma_key] / median['history_prisma']:.2f}× its time"))
    if prisma is not None:
        rows += [
            (f"prisma migrate deploy, SQLite, first run in a new project (median of {len(prisma[0])})",
             ms(median["prisma_first_run"]),
             f"{median['prisma_first_run'] / median['init_sqlite_cold']:.1f}× faber-db's first run (cold cache)"),
            (f"prisma migrate deploy, SQLite, repeated run in one project (median of {len(prisma[1])})",
             ms(median["prisma_repeated_run"]),
             f"{median['prisma_repeated_run'] / median['init_sqlite_warm']:.1f}× faber-db's repeated run (warm cache)"),
        ]
    rows += [
        (f"component: engine set-up (median of {n})", f"{costs['engine']:.2f} ms", ""),
        (f"component: first load, empty cache, handler-db-prisma (its code built into faber-db) (median of {n})",
         f"{costs['compile']:.1f} ms", ""),
        (f"component: load from cache (median of {n})", f"{costs['load_cached']:.2f} ms", ""),
        (f"component: link + pre-instantiate (median of {n})", f"{costs['link']:.2f} ms", ""),
        (f"component: instantiate + one call (median of {n})", f"{costs['instantiate_and_call']:.2f} ms", ""),
        *[row for compiler, c in python_costs.items() for row in (
            (f"the Python example handler's first use ({PYTHON_WASM.stat().st_size / 1e6:.1f} MB), empty cache, "
             f"compiled by {compiler} (median of {python_rounds})",
             ms(c["compile"] / 1000), "compiling, then writing the cache"),
            (f"the Python example: instantiate + one call, {compiler}'s code (median of {python_rounds})",
             f"{c['instantiate_and_call']:.2f} ms", ""),
        )],
        (f"check of what the handler left (catalog read before and after), PostgreSQL, tracking table only (median of {n})",
         f"{leftovers['fresh']:.2f} ms", "once per command"),
        (f"check of what the handler left, PostgreSQL, with 100 tables, indexes, functions and triggers (median of {n})",
         f"{leftovers['grown']:.2f} ms", "once per command"),
        *[(f"{count} init(s) in sequence, PostgreSQL (total)", ms(total), f"{ms(total / count)} each")
          for count, total in sequences.items()],
        (f"init with {folder_size} migrations in the folder, SQLite (median of {n})", ms(median["large_folder"]),
         f"{(median['large_folder'] - median['init_sqlite_warm']) * 1000:+.1f} ms over a plain SQLite init"),
        ("peak RSS of an init process (largest of all runs)", f"{peak / 1024:.1f} MiB", ""),
    ]
    table = ["| measurement | value | compared with |", "| --- | ---: | --- |"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    header = (f"Machine: {machine()}. Profile: {args.profile}. Rounds: {args.rounds}. "
              f"Date: {time.strftime('%Y-%m-%d')}.")
    # Where a warm PostgreSQL init's time goes: each step's median, and what
    # the process spends outside them (start-up, configuration, the report).
    whole = init_profile.pop((0, "the whole process"))
    profile = ["| step of a warm `init dev`, PostgreSQL | median |", "| --- | ---: |"]
    profile += [f"| {number}. {name} | {ms(seconds)} |" for (number, name), seconds in sorted(init_profile.items())]
    profile += [f"| outside the steps: start-up, configuration, the report | {ms(whole - sum(init_profile.values()))} |",
                f"| the whole process | {ms(whole)} |"]
    text = header + "\n\n" + "\n".join(table) + "\n\n" + "\n".join(profile) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.raw:
        raw = {"machine": machine(), "profile": args.profile, "rounds": args.rounds,
               "date": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds": samples,
               "component_ms": costs, "python_component_ms": python_costs,
               "init_pg_warm_steps_seconds": {f"{number}. {name}": times for (number, name), times
                                              in sorted(warm_steps.items())}, "leftovers_ms": leftovers, "sequences_total_seconds": sequences, "peak_rss_kib": peak,
               "migrate_growth_seconds": migrate_growth, "status_cpu_seconds": status_cpu}
        args.raw.write_text(json.dumps(raw, indent=1) + "\n")


if __name__ == "__main__":
    main()
