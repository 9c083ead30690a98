#!/usr/bin/env bash
# The whole test suite, on a fresh machine with Rust: installs or starts
# everything the tests need, builds the components, runs every test.
#
#   bash tests/run.sh            # everything
#   bash tests/run.sh -E 'test(init)'   # extra arguments go to cargo nextest
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*" >&2; }

need_apt=()
command -v psql >/dev/null || need_apt+=(postgresql-client)
command -v mysql >/dev/null || need_apt+=(mariadb-client)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
command -v script >/dev/null || need_apt+=(bsdutils)
# The OCI registry tests start their own `distribution` server (not as a
# service: each test on a free port with a temporary storage folder).
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
command -v curl >/dev/null || need_apt+=(curl)
command -v openssl >/dev/null || need_apt+=(openssl)
# The packaging test renders the man page and strips the binary it packs.
command -v man >/dev/null || need_apt+=(man-db)
command -v strip >/dev/null || need_apt+=(binutils)
command -v node >/dev/null || need_apt+=(nodejs npm)
if ((${#need_apt[@]})); then
    say "installing ${need_apt[*]}"
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi

# PostgreSQL and MariaDB on loopback (their standard ports, unless the
# FABER_DB_TEST_*_URL variables point elsewhere).
if [[ -z "${FABER_DB_TEST_PG_URL:-}" ]] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if [[ -z "${FABER_DB_TEST_MYSQL_URL:-}" ]] && ! mysqladmin ping -h127.0.0.1 -uroot --protocol=TCP >/dev/null 2>&1; then
    say "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 30); do mysqladmin ping -h127.0.0.1 -uroot --protocol=TCP >/dev/null 2>&1 && break; sleep 1; done
fi

# The AWS RDS emulator for the cloud tests, in a virtual environment of its own.
venv="${FABER_DB_MOTO_VENV:-target/moto-venv}"
if [[ ! -x "$venv/bin/moto_server" ]]; then
    say "installing moto[server] into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6'
fi
export FABER_DB_MOTO_VENV="$(cd "$venv" && pwd)"

# Prisma's own CLI, to check that what handler-db-prisma leaves is what Prisma
# expects. 6.19 runs its schema engine as WebAssembly through a driver adapter:
# nothing to download. The PostgreSQL adapter is 7.x: 6.x cannot read the
# catalog's `name` columns, so its `migrate deploy` fails on any database.
prisma="${FABER_DB_PRISMA_NODE:-target/prisma-node}"
prisma_packages=(prisma@6.19.3 @prisma/adapter-libsql@6.19.3 @prisma/adapter-pg@7.10.1)
if ! grep -qs '"version": "7.10.1"' "$prisma/node_modules/@prisma/adapter-pg/package.json" \
    || [[ ! -f "$prisma/node_modules/prisma/build/index.js" ]]; then
    say "installing Prisma into $prisma"
    command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
    mkdir -p "$prisma"
    (cd "$prisma" && { [[ -f package.json ]] || npm init -y >/dev/null; } \
        && npm install --save-exact --no-audit --no-fund --loglevel=error "${prisma_packages[@]}")
fi
export FABER_DB_PRISMA_NODE="$(cd "$prisma" && pwd)"

# Prisma 7.10's own CLI, the judge for Prisma 7 projects. Every Prisma 7
# command spawns the native schema engine, downloaded at install (not here):
# tests/prisma7/schema-engine.mjs stands in for it, running the same engine's
# WebAssembly build from the prisma package (see tests/prisma7/README.md).
# No install script runs: the only one would try that download.
prisma7="${FABER_DB_PRISMA7_NODE:-target/prisma7-node}"
prisma7_packages=(prisma@7.10.1 @prisma/adapter-pg@7.10.1 @prisma/adapter-libsql@7.10.0 dotenv@17.4.2
    @prisma/schema-engine-wasm@8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323)
if ! grep -qs '"version": "7.10.1"' "$prisma7/node_modules/prisma/package.json" \
    || [[ ! -f "$prisma7/node_modules/@prisma/schema-engine-wasm/package.json" ]] \
    || [[ ! -f "$prisma7/node_modules/dotenv/package.json" ]]; then
    say "installing Prisma 7 into $prisma7"
    mkdir -p "$prisma7"
    (cd "$prisma7" && { [[ -f package.json ]] || npm init -y >/dev/null; } \
        && npm install --save-exact --ignore-scripts --no-audit --no-fund --loglevel=error "${prisma7_packages[@]}")
fi
export FABER_DB_PRISMA7_NODE="$(cd "$prisma7" && pwd)"

# Drizzle's own migrator and drizzle-kit, the judges for handler-db-drizzle,
# with the drivers the migrator uses on each provider (all from npm: the
# SQLite one, libsql, ships its native library as an npm package).
drizzle="${FABER_DB_DRIZZLE_NODE:-target/drizzle-node}"
drizzle_packages=(drizzle-orm@0.45.4 drizzle-kit@0.31.11 pg@8.16.3 mysql2@3.15.3 @libsql/client@0.15.15)
if ! grep -qs '"version": "0.45.4"' "$drizzle/node_modules/drizzle-orm/package.json" \
    || [[ ! -f "$drizzle/node_modules/@libsql/client/package.json" ]]; then
    say "installing Drizzle into $drizzle"
    mkdir -p "$drizzle"
    (cd "$drizzle" && { [[ -f package.json ]] || npm init -y >/dev/null; } \
        && npm install --save-exact --no-audit --no-fund --loglevel=error "${drizzle_packages[@]}")
fi
export FABER_DB_DRIZZLE_NODE="$(cd "$drizzle" && pwd)"

# TypeORM's own CLI, the judge for handler-db-typeorm, with the drivers its
# data source uses on each provider (better-sqlite3 builds its native part
# on install when no prebuilt one fits).
typeorm="${FABER_DB_TYPEORM_NODE:-target/typeorm-node}"
typeorm_packages=(typeorm@1.1.4 pg@8.16.3 mysql2@3.15.3 better-sqlite3@12.11.1)
if ! grep -qs '"version": "1.1.4"' "$typeorm/node_modules/typeorm/package.json" \
    || [[ ! -f "$typeorm/node_modules/better-sqlite3/package.json" ]]; then
    say "installing TypeORM into $typeorm"
    mkdir -p "$typeorm"
    (cd "$typeorm" && { [[ -f package.json ]] || npm init -y >/dev/null; } \
        && npm install --save-exact --no-audit --no-fund --loglevel=error "${typeorm_packages[@]}")
fi
export FABER_DB_TYPEORM_NODE="$(cd "$typeorm" && pwd)"

# sequelize-cli, the judge for handler-db-sequelize, with Sequelize and the
# drivers its dialects load (sqlite3 builds its native part on install when
# no prebuilt one fits).
sequelize="${FABER_DB_SEQUELIZE_NODE:-target/sequelize-node}"
sequelize_packages=(sequelize-cli@6.6.5 sequelize@6.37.8 pg@8.16.3 pg-hstore@2.3.4 mysql2@3.15.3 sqlite3@6.0.1)
if ! grep -qs '"version": "6.6.5"' "$sequelize/node_modules/sequelize-cli/package.json" \
    || [[ ! -f "$sequelize/node_modules/sqlite3/package.json" ]]; then
    say "installing sequelize-cli into $sequelize"
    mkdir -p "$sequelize"
    (cd "$sequelize" && { [[ -f package.json ]] || npm init -y >/dev/null; } \
        && npm install --save-exact --no-audit --no-fund --loglevel=error "${sequelize_packages[@]}")
fi
export FABER_DB_SEQUELIZE_NODE="$(cd "$sequelize" && pwd)"

say "building the handler components (wasm32-wasip2)"
rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
cargo build --release --target wasm32-wasip2 \
    -p handler-db-prisma -p handler-cloud-aws -p handler-db-dbmate -p handler-db-drizzle -p handler-db-typeorm -p handler-db-sequelize \
    -p hostile-handler -p hostile-migrator -p hostile-cloud-handler -p lying-handler -p legacy-handler-v0-1-0 -p legacy-handler-v0-4-0 -p future-handler
# The host embeds the bundled handlers (host/build.rs): these, just built,
# instead of a second build of its own.
target_dir="${CARGO_TARGET_DIR:-target}"
export FABER_DB_BUNDLED_DIR="$(cd "$target_dir" && pwd)/wasm32-wasip2/release"

# The Python example handler, built with componentize-py (from PyPI, in a
# virtual environment of its own); rebuilt only when its sources, the WIT or
# the tool's version changed.
componentize_py_version=0.25.1
cpy="${FABER_DB_COMPONENTIZE_PY_VENV:-target/componentize-py-venv}"
if ! "$cpy/bin/componentize-py" --version 2>/dev/null | grep -qx "componentize-py $componentize_py_version"; then
    say "installing componentize-py $componentize_py_version into $cpy"
    python3 -m venv "$cpy"
    "$cpy/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$componentize_py_version"
fi
say "building the Python example handler (componentize-py)"
bash handlers/examples/python-migration-tool/build.sh "$cpy/bin/componentize-py" \
    "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/python_migration_tool.wasm"

say "running the tests"
# The crash tests kill or pause the binary at a step boundary through its
# fault-injection hook, compiled in only with this feature.
packages=(-p faber-db -p faber-db-handler -p faber-db-js -p handler-db-prisma -p handler-cloud-aws -p handler-db-dbmate -p handler-db-drizzle -p handler-db-typeorm -p handler-db-sequelize --features faber-db/failpoints)
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run "${packages[@]}" --no-fail-fast "$@"
else
    cargo test "${packages[@]}" --no-fail-fast "$@"
fi
