#!/usr/bin/env node
// Stand-in for Prisma 7's native `schema-engine` binary, so that Prisma's own
// CLI (`prisma migrate status|deploy|resolve`) can judge faber-db offline.
//
// WHY: Prisma 7 always spawns the native engine, which is downloaded at
// install time and cannot be fetched here. The same engine ships as
// WebAssembly inside the `prisma` package; this script loads it with a driver
// adapter (pg / libsql) and speaks the native engine's protocol to the CLI.
// Point the CLI at it with PRISMA_SCHEMA_ENGINE_BINARY=<this file>.
//
// How the CLI talks to the engine (read from prisma 7.10.1 build/cli.js):
//  * RPC mode: `schema-engine [--datamodels <schema file>]... --datasource
//    '{"url":...,"shadowDatabaseUrl"?:...}' [--enabled-preview-features a,b]
//    [--extension-types <json>]`, cwd = the config file's folder; one JSON-RPC
//    request per stdin line, one response per stdout line. stderr lines are
//    JSON log records; the CLI keeps `fields.message` of ERROR records.
//  * CLI mode: `schema-engine --datasource '{"url":...}' cli <command>` for
//    can-connect-to-database / create-database; failure = non-zero exit with an
//    ERROR record carrying `fields.error_code` (P1003 makes the CLI call
//    create-database).
//  * `schema-engine --version` for `prisma version`.
//
// Packages are resolved from FABER_DB_PRISMA7_NODE (an npm install dir, see
// tests/prisma7/README.md); default: <repo>/target/prisma7-node.

import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.resolve(process.env.FABER_DB_PRISMA7_NODE ?? path.join(here, '..', '..', 'target', 'prisma7-node'));
const req = createRequire(path.join(nodeDir, 'package.json'));

// ---- arguments --------------------------------------------------------------
const argv = process.argv.slice(2);
const schemaPaths = [];
let datasource = null;
let cliCommand = null;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--datamodels') schemaPaths.push(argv[++i]);
  else if (a === '--datasource') datasource = JSON.parse(argv[++i]);
  else if (a === '--enabled-preview-features' || a === '--extension-types') i++; // not used by migrate
  else if (a === '--version' || a === '-V') cliCommand = 'version';
  else if (a === 'cli') cliCommand = argv[++i];
}

// Native engine log format, so the CLI can read our errors off stderr.
function logRecord(level, fields) {
  process.stderr.write(JSON.stringify({ timestamp: new Date().toISOString(), level, fields, target: 'schema_engine::logger' }) + '\n');
}
function fail(message, errorCode, exitCode = 1) {
  logRecord('ERROR', { is_panic: exitCode === 101, message, ...(errorCode ? { error_code: errorCode } : {}) });
  process.exit(exitCode);
}
// A crash must not look like success: the CLI can exit 0 with no output when
// its engine dies silently, so report as a panic (exit 101) instead.
process.on('uncaughtException', (e) => fail(`schema-engine bridge crashed: ${e?.stack ?? e}`, undefined, 101));
process.on('unhandledRejection', (e) => fail(`schema-engine bridge crashed: ${e?.stack ?? e}`, undefined, 101));

// ---- the WebAssembly engine ---------------------------------------------------
async function loadEngineModule() {
  // JS glue from @prisma/schema-engine-wasm, wasm bytes from the prisma package
  // itself (exactly the engine that CLI version ships; the glue's imports match).
  const glue = await import(pathToFileURL(req.resolve('@prisma/schema-engine-wasm/schema_engine_bg')).href);
  const prismaWasm = path.join(path.dirname(req.resolve('prisma/package.json')), 'build', 'schema_engine_bg.wasm');
  const wasmFile = existsSync(prismaWasm) ? prismaWasm : req.resolve('@prisma/schema-engine-wasm/schema_engine_bg.wasm');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile)), { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return glue;
}

// ---- datasource URL handling ------------------------------------------------
function providerOf(url) {
  if (/^file:/.test(url)) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`schema-engine bridge: unsupported datasource URL scheme in ${url.split(':')[0]}:`);
}
// `file:./dev.db` is relative to the engine's cwd, which the CLI sets to the
// config file's folder (as the native engine resolves it).
function sqlitePath(url) {
  const p = decodeURIComponent(url.replace(/^file:(\/\/(?=\/))?/, '').split('?')[0]);
  return path.resolve(process.cwd(), p);
}
// Prisma's `?schema=x` is not a libpq parameter: strip it and hand it to the
// adapter (qualified names) and to PostgreSQL (search_path) instead.
function pgConfig(url, database) {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  if (database !== undefined) u.pathname = '/' + encodeURIComponent(database);
  const config = { connectionString: u.toString() };
  if (schema) config.options = `-c search_path="${schema.replace(/"/g, '""')}"`;
  return { config, schema, database: decodeURIComponent(u.pathname.slice(1)) || 'postgres', where: `${u.hostname}:${u.port || 5432}` };
}

// ---- driver adapters --------------------------------------------------------
// adapter-pg's executeScript splits on ';' and runs the pieces one by one,
// which breaks `DO $$ ... $$` / function bodies. The native engine sends the
// script whole (simple-query protocol: one implicit transaction); do the same.
function sendScriptsWhole(adapter) {
  adapter.executeScript = async (script) => {
    try { await adapter.underlyingDriver().query(script); } catch (e) { adapter.onError(e); }
  };
  return adapter;
}

// The wasm SQLite connector cannot tell "no _prisma_migrations table" from
// any other error (the native one maps SQLite error 1 to "not initialised").
// So `migrate status` and `migrate resolve --applied` (baselining) fail on a
// database without the table. When the table is absent and the engine reads
// it: while diagnosing, answer with no rows and report the table as absent;
// while marking a migration applied, create the table first, as the native
// engine does. The layout is Prisma's SQLite `_prisma_migrations` table.
const sqliteCall = { method: null, tableMissing: false };
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "checksum" TEXT NOT NULL,
  "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL,
  "logs" TEXT,
  "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;
function handleMissingMigrationsTable(adapter) {
  const queryRaw = adapter.queryRaw.bind(adapter);
  const raw = (sql) => ({ sql, args: [], argTypes: [] });
  adapter.queryRaw = async (q) => {
    const m = sqliteCall.method;
    if ((m === 'diagnoseMigrationHistory' || m === 'markMigrationApplied')
        && /FROM\s+[`"]?_prisma_migrations[`"]?/i.test(q.sql)) {
      const probe = await queryRaw(raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'"));
      if (probe.rows.length === 0) {
        sqliteCall.tableMissing = true;
        if (m === 'diagnoseMigrationHistory') return { columnNames: [], columnTypes: [], rows: [] };
        await adapter.executeRaw(raw(SQLITE_MIGRATIONS_TABLE));
      }
    }
    return queryRaw(q);
  };
  return adapter;
}

function adapterFactory(ds) {
  const provider = providerOf(ds.url);
  if (provider === 'postgres') {
    const { PrismaPg } = req('@prisma/adapter-pg');
    const make = (url) => { const c = pgConfig(url); return new PrismaPg(c.config, c.schema ? { schema: c.schema } : undefined); };
    const main = make(ds.url);
    const shadow = ds.shadowDatabaseUrl ? make(ds.shadowDatabaseUrl) : null;
    return {
      utils: createRequire(req.resolve('@prisma/adapter-pg'))('@prisma/driver-adapter-utils'),
      factory: {
        provider: main.provider,
        adapterName: main.adapterName,
        connect: async () => sendScriptsWhole(await main.connect()),
        // A configured shadowDatabaseUrl wins; otherwise adapter-pg creates and
        // drops a throw-away database, as the native engine does.
        connectToShadowDb: async () => sendScriptsWhole(await (shadow ? shadow.connect() : main.connectToShadowDb())),
      },
    };
  }
  const { PrismaLibSql } = req('@prisma/adapter-libsql');
  // The native engine (quaint over rusqlite) binds DateTime values as integer
  // milliseconds since the epoch; adapter-libsql writes ISO-8601 text unless
  // told 'unixepoch-ms'. Match the native engine's _prisma_migrations rows.
  const main = new PrismaLibSql({ url: 'file:' + sqlitePath(ds.url) }, { timestampFormat: 'unixepoch-ms' });
  return {
    utils: createRequire(req.resolve('@prisma/adapter-libsql'))('@prisma/driver-adapter-utils'),
    factory: {
      provider: main.provider,
      adapterName: main.adapterName,
      connect: async () => handleMissingMigrationsTable(await main.connect()),
      connectToShadowDb: () => main.connectToShadowDb(), // in-memory database
    },
  };
}

// ---- CLI mode -----------------------------------------------------------------
async function runCliCommand(cmd) {
  if (cmd === 'version') {
    process.stdout.write(`schema-engine-cli ${(await loadEngineModule()).version()}\n`);
    return;
  }
  // The CLI skips the first stderr line of a `cli` run (the native engine's
  // start-up record) before looking for the ERROR record: emit one.
  logRecord('INFO', { message: 'Starting schema engine CLI (wasm bridge)' });
  if (!datasource?.url) fail('schema-engine bridge: no --datasource url given');
  const url = datasource.url;
  if (providerOf(url) === 'sqlite') {
    const file = sqlitePath(url);
    if (cmd === 'can-connect-to-database') {
      if (!existsSync(file)) fail(`Database \`${path.basename(file)}\` does not exist at \`${file}\``, 'P1003');
    } else if (cmd === 'create-database') {
      mkdirSync(path.dirname(file), { recursive: true });
      if (!existsSync(file)) writeFileSync(file, ''); // an empty file is an empty SQLite database
    } else if (cmd === 'drop-database') {
      if (existsSync(file)) unlinkSync(file);
    } else fail(`schema-engine bridge: unknown cli command ${cmd}`);
    return;
  }
  const pg = createRequire(req.resolve('@prisma/adapter-pg'))('pg');
  const target = pgConfig(url);
  // create/drop run from the maintenance database, like the native engine.
  const conn = pgConfig(url, cmd === 'can-connect-to-database' ? undefined : 'postgres');
  const client = new pg.Client(conn.config);
  try {
    await client.connect();
    const ident = '"' + target.database.replace(/"/g, '""') + '"';
    if (cmd === 'can-connect-to-database') await client.query('SELECT 1');
    else if (cmd === 'create-database') await client.query(`CREATE DATABASE ${ident}`);
    else if (cmd === 'drop-database') await client.query(`DROP DATABASE IF EXISTS ${ident}`);
    else fail(`schema-engine bridge: unknown cli command ${cmd}`);
  } catch (e) {
    if (e.code === '3D000') fail(`Database \`${target.database}\` does not exist on the database server at \`${target.where}\`.`, 'P1003');
    if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(e.code))
      fail(`Can't reach database server at \`${target.where}\`\n\nPlease make sure your database server is running at \`${target.where}\`.`, 'P1001');
    if (e.code === '28P01' || e.code === '28000')
      fail(`Authentication failed against database server, the provided database credentials for \`${new URL(url).username}\` are not valid.`, 'P1000');
    fail(String(e.message ?? e));
  } finally {
    await client.end().catch(() => {});
  }
}

// ---- RPC mode -------------------------------------------------------------------
// The CLI's method names that differ from the wasm engine's.
const methodAlias = { getDatabaseVersion: 'version' };

function rpcError(e) {
  if (e?.name === 'SchemaConnectorError') {
    // Drop the wasm span trace ("   0: schema_engine_wasm::...") that the
    // native engine does not print.
    const message = String(e.message).replace(/\n\s+0: [\s\S]*$/, '');
    return { code: 4466, message: 'An error happened. Check the data field for details.',
      data: { is_panic: false, message, meta: e.meta ?? {}, ...(e.code ? { error_code: e.code } : {}) } };
  }
  const message = String(e?.message ?? e);
  return { code: 4466, message: 'An error happened. Check the data field for details.',
    data: { is_panic: true, message, error: { message }, backtrace: e?.stack } };
}

async function runRpc() {
  if (!datasource?.url) fail('schema-engine bridge: no --datasource url given');
  const glue = await loadEngineModule();
  const { factory, utils } = adapterFactory(datasource);
  const datamodels = schemaPaths.map((p) => [p, readFileSync(path.resolve(process.cwd(), p), 'utf8')]);
  // The wasm engine logs native-style JSON records; pass them on to stderr.
  const engine = await glue.SchemaEngine.new({ datamodels }, (line) => process.stderr.write(line + '\n'),
    utils.bindMigrationAwareSqlAdapterFactory(factory));

  const call = async (method, params) => {
    const name = methodAlias[method] ?? method;
    if (typeof engine[name] !== 'function') throw new Error(`schema-engine bridge: method ${method} is not available in the wasm engine`);
    if (providerOf(datasource.url) !== 'sqlite') return engine[name](params);
    Object.assign(sqliteCall, { method, tableMissing: false });
    try {
      const out = await engine[name](params);
      if (method === 'diagnoseMigrationHistory' && sqliteCall.tableMissing) out.hasMigrationsTable = false;
      return out;
    } finally { sqliteCall.method = null; }
  };

  // One request at a time, in order, like the native engine's connector lock.
  let queue = Promise.resolve();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    const msg = JSON.parse(line);
    if (msg.method === undefined) return; // a response to a request of ours (we send none)
    queue = queue.then(async () => {
      let reply;
      try {
        const result = await call(msg.method, msg.params);
        reply = { jsonrpc: '2.0', id: msg.id, result: result === undefined ? null : result };
      } catch (e) {
        reply = { jsonrpc: '2.0', id: msg.id, error: rpcError(e) };
      }
      process.stdout.write(JSON.stringify(reply) + '\n');
    });
  });
  // The CLI ends stdin (and then kills us) when it is done.
  rl.on('close', () => queue.then(() => process.exit(0)));
}

if (cliCommand) await runCliCommand(cliCommand);
else await runRpc();
