#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the dashboard for meson: build-dist.sh NPM SRCDIR OUTDIR DEPFILE
# Runs `npm ci` in SRCDIR when node_modules is missing or older than the lock
# file, builds into OUTDIR, and writes a depfile so ninja rebuilds when a
# source file changes.
set -eu

npm=$1
src=$2
out=$3
dep=$4

mkdir -p "$(dirname "$out")"
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
mkdir -p "$(dirname "$dep")"
dep_abs=$(cd "$(dirname "$dep")" && pwd)/$(basename "$dep")

cd "$src"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "web: npm ci in $src"
    "$npm" ci --no-audit --no-fund --loglevel=error
fi
"$npm" run --silent build -- --outDir "$out_abs" --emptyOutDir --logLevel warn

esc() { sed 's/[ #$]/\\&/g'; }
{
    printf '%s:' "$(printf '%s' "$out" | esc)"
    find "$src/src" -type f ! -name '*.test.*' ! -path '*/test/*' | LC_ALL=C sort | esc | while IFS= read -r f; do
        printf ' \\\n  %s' "$f"
    done
    for f in index.html package.json package-lock.json vite.config.js; do
        printf ' \\\n  %s' "$(printf '%s' "$src/$f" | esc)"
    done
    echo
} >"$dep_abs"
