#!/usr/bin/env node
// Runs faber-db's native binary, which npm installed beside this package as
// the one optional dependency matching this machine (@faber-db/cli-<os>-<cpu>
// [-<libc>]), with the same arguments, terminal and exit code.
"use strict";

const { spawnSync } = require("node:child_process");

/** The platform package's suffix for this machine: linux-x64-gnu, darwin-arm64, win32-x64-msvc. */
function platform() {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform === "win32") return `${base}-msvc`;
  if (process.platform !== "linux") return base;
  const header = process.report.getReport().header;
  return `${base}-${header.glibcVersionRuntime ? "gnu" : "musl"}`;
}

const suffix = platform();
const pkg = `@faber-db/cli-${suffix}`;
const exe = process.platform === "win32" ? "faber-db.exe" : "faber-db";
let binary;
try {
  binary = require.resolve(`${pkg}/bin/${exe}`);
} catch {
  console.error(
    `error: faber-db has no binary for this machine (${suffix}): the package ${pkg} is not installed\n` +
      `help: reinstall without --omit=optional or --no-optional, so npm installs it; where faber-db ` +
      `publishes no ${suffix} build, install it with \`cargo install faber-db\` instead`,
  );
  process.exit(1);
}

const run = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (run.error) {
  console.error(`error: cannot run ${binary}: ${run.error.message}`);
  process.exit(1);
}
if (run.signal) {
  process.kill(process.pid, run.signal);
}
process.exit(run.status ?? 1);
