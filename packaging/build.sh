#!/usr/bin/env bash
# Builds faber-db's distribution from one binary built on this machine:
#
# - npm packages: `faber-db`, whose bin runs the native binary from the
#   `@faber-db/cli-<os>-<cpu>[-<libc>]` package npm installs by its `os`,
#   `cpu` and `libc` (one optional dependency per platform); this machine's
#   platform package holds the binary, the others' manifests are written
#   for the machines that build them;
# - a release archive: the binary, shell completions, man pages, LICENSE
#   and README;
# - SHA256SUMS over the archive and the packed npm tarballs.
#
# Nothing downloads anything at install time: the binary is in the package.
#
# usage: packaging/build.sh [--binary PATH] [--out DIR]
#   --binary PATH  a faber-db built for this machine (default: cargo build --release)
#   --out DIR      where everything is written (default: target/dist)
set -euo pipefail
cd "$(dirname "$0")/.."

binary=""
out="target/dist"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) echo "error: unknown argument $1" >&2
           echo "usage: packaging/build.sh [--binary PATH] [--out DIR]" >&2; exit 2 ;;
    esac
done
if [[ -z "$binary" ]]; then
    cargo build --release -p faber-db
    binary="${CARGO_TARGET_DIR:-target}/release/faber-db"
fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)"

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) cpu=x64; triple=x86_64-unknown-linux ;;
    Linux-aarch64) cpu=arm64; triple=aarch64-unknown-linux ;;
    *) echo "error: this script packages Linux builds; $(uname -s)-$(uname -m) is not one" >&2; exit 1 ;;
esac
if ldd --version 2>&1 | grep -qi musl; then libc=musl; else libc=gnu; fi
here="linux-$cpu-$libc"
triple="$triple-$libc"

rm -rf "$out"
mkdir -p "$out/npm"
out="$(cd "$out" && pwd)"
# What ships is the binary without its symbols and debug information.
shipped="$out/.faber-db"
strip -o "$shipped" "$binary" 2>/dev/null || cp "$binary" "$shipped"
binary="$shipped"

# One package per platform, named as npm's fields describe it.
platforms=(linux-x64-gnu linux-x64-musl linux-arm64-gnu linux-arm64-musl
    darwin-x64 darwin-arm64 win32-x64-msvc win32-arm64-msvc)
for platform in "${platforms[@]}"; do
    IFS=- read -r os arch abi <<<"$platform"
    dir="$out/npm/cli-$platform"
    mkdir -p "$dir/bin"
    libc_field=""
    if [[ "$os" == linux ]]; then
        libc_field=$'\n'"  \"libc\": [\"$([[ $abi == gnu ]] && echo glibc || echo musl)\"],"
    fi
    cat >"$dir/package.json" <<EOF
{
  "name": "@faber-db/cli-$platform",
  "version": "$version",
  "description": "The faber-db binary for $platform (installed by the faber-db package)",
  "license": "Apache-2.0",
  "os": ["$os"],
  "cpu": ["$arch"],$libc_field
  "files": ["bin/"],
  "preferUnplugged": true
}
EOF
    cp LICENSE "$dir/"
    if [[ "$platform" == "$here" ]]; then
        install -m 0755 "$binary" "$dir/bin/faber-db"
        (cd "$out/npm" && npm pack --silent "$dir" >/dev/null)
    fi
done

main="$out/npm/faber-db"
mkdir -p "$main/bin"
install -m 0755 packaging/npm/bin/faber-db.js "$main/bin/faber-db.js"
cp README.md LICENSE "$main/"
optional=""
for platform in "${platforms[@]}"; do
    optional+="${optional:+,}"$'\n'"    \"@faber-db/cli-$platform\": \"$version\""
done
cat >"$main/package.json" <<EOF
{
  "name": "faber-db",
  "version": "$version",
  "description": "Stand up a project's databases safely across environments, with sandboxed WebAssembly handlers",
  "license": "Apache-2.0",
  "bin": { "faber-db": "bin/faber-db.js" },
  "files": ["bin/", "README.md", "LICENSE"],
  "engines": { "node": ">=18" },
  "optionalDependencies": {$optional
  }
}
EOF
(cd "$out/npm" && npm pack --silent "$main" >/dev/null)

# The release archive.
name="faber-db-$version-$triple"
stage="$out/$name"
mkdir -p "$stage/completions" "$stage/man/man1"
install -m 0755 "$binary" "$stage/faber-db"
"$binary" completions bash >"$stage/completions/faber-db.bash"
"$binary" completions zsh >"$stage/completions/_faber-db"
"$binary" completions fish >"$stage/completions/faber-db.fish"
"$binary" completions powershell >"$stage/completions/_faber-db.ps1"
"$binary" man --dir "$stage/man/man1"
cp LICENSE README.md "$stage/"
tar -C "$out" -czf "$out/$name.tar.gz" "$name"
rm -rf "$stage" "$shipped"

(cd "$out" && sha256sum "$name.tar.gz" npm/*.tgz >SHA256SUMS)
echo "wrote $out/$name.tar.gz, $(ls "$out"/npm/*.tgz | wc -l) npm tarballs and SHA256SUMS"
