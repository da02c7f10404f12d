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

# Compressed copies of the text files, which storeagentd serves to clients that take them
# (Accept-Encoding): gzip always, brotli when its encoder is installed (Debian: brotli). A copy
# that is not smaller than its file is dropped.
find "$out_abs" -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.json' \
    -o -name '*.txt' -o -name '*.map' \) | while IFS= read -r f; do
    gzip -9 -n -k -f "$f"
    if command -v brotli >/dev/null 2>&1; then
        brotli -q 11 -k -f "$f"
    fi
    for z in "$f.gz" "$f.br"; do
        if [ -f "$z" ] && [ "$(wc -c <"$z")" -ge "$(wc -c <"$f")" ]; then
            rm -f "$z"
        fi
    done
done

esc() { sed 's/[ #$]/\\&/g'; }
{
    printf '%s:' "$(printf '%s' "$out" | esc)"
    find "$src/src" -type f ! -name '*.test.*' ! -path '*/test/*' | LC_ALL=C sort | esc | while IFS= read -r f; do
        printf ' \\\n  %s' "$f"
    done
    for f in index.html package.json package-lock.json vite.config.js build-dist.sh; do
        printf ' \\\n  %s' "$(printf '%s' "$src/$f" | esc)"
    done
    echo
} >"$dep_abs"
