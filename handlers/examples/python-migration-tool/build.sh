#!/usr/bin/env bash
# Builds the example into a component with componentize-py, against the
# repository's contract (wit/faber-db.wit, world migration-tool-handler).
# Skips the build when the Python sources, the WIT and componentize-py's
# version are those of the last build (a sha256 over all three, kept beside
# the output).
#
#   build.sh PATH/TO/componentize-py OUT.wasm
set -euo pipefail
componentize_py="$(realpath "$1")"
out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
wit="$here/../../../wit"

inputs="$(
    cd "$here"
    { "$componentize_py" --version; sha256sum ./*.py "$wit"/*.wit | sed "s|$wit/||"; } | sha256sum | cut -d' ' -f1
)"
if [[ -f "$out" && "$(cat "$out.inputs" 2>/dev/null)" == "$inputs" ]]; then
    echo "python-migration-tool: up to date ($out)" >&2
    exit 0
fi

# componentize-py imports the app while it builds (to snapshot the
# initialized interpreter), which leaves __pycache__ behind: build from a
# copy so that the checkout stays clean. Builds are not byte for byte
# reproducible (each is a new sha256: a new pin, a new compilation), which is
# why an unchanged example is not built again.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here"/*.py "$work"/
mkdir -p "$(dirname "$out")"
started=$SECONDS
"$componentize_py" -d "$wit" -w migration-tool-handler componentize app -p "$work" -o "$work/out.wasm" >&2
mv "$work/out.wasm" "$out"
echo "$inputs" >"$out.inputs"
echo "python-migration-tool: built $out ($(($(stat -c %s "$out") / 1048576)) MiB) in $((SECONDS - started)) s" >&2
