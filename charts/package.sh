#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Package the store-woocommerce chart into a chart repository directory, the
# layout storeagentd's upgrade endpoint reads (chart.repository in its config):
#
#   <outdir>/store-woocommerce-<version>.tgz   (and index.yaml with --index)
#
# Usage: charts/package.sh [--version VERSION] [--index] [--helm PATH] OUTDIR
#
#   --version VERSION  package under this chart version instead of Chart.yaml's
#                      (the tests use it to make a "newer" chart)
#   --index            (re)write OUTDIR/index.yaml with `helm repo index`
#   --helm PATH        helm binary; default $HELM, else helm from PATH
#
# Prints the path of the package it wrote. Exits non-zero on any failure.
set -euo pipefail

usage() { sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//'; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chart=$here/store-woocommerce
helm=${HELM:-helm}
version=
index=false
outdir=

while (($#)); do
    case $1 in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --version=*) version=${1#*=}; shift ;;
    --index) index=true; shift ;;
    --helm) helm=${2:?--helm needs a value}; shift 2 ;;
    --helm=*) helm=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "package.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *)
        [[ -z $outdir ]] || { echo "package.sh: one OUTDIR only" >&2; exit 2; }
        outdir=$1; shift ;;
    esac
done
[[ -n $outdir ]] || { usage >&2; exit 2; }
if [[ -n $version && ! $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
    echo "package.sh: '$version' is not a semantic version (e.g. 0.2.0)" >&2
    exit 2
fi
command -v "$helm" >/dev/null 2>&1 || { echo "package.sh: helm not found ('$helm'); set HELM or --helm" >&2; exit 1; }

mkdir -p "$outdir"
# helm keeps caches under $HOME; a build user may have none.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HELM_CACHE_HOME=${HELM_CACHE_HOME:-$tmp/cache}
export HELM_CONFIG_HOME=${HELM_CONFIG_HOME:-$tmp/config}
export HELM_DATA_HOME=${HELM_DATA_HOME:-$tmp/data}

args=(package "$chart" --destination "$outdir")
[[ -z $version ]] || args+=(--version "$version")
"$helm" "${args[@]}" >"$tmp/out"

name=store-woocommerce
[[ -n $version ]] || version=$(sed -n 's/^version:[[:space:]]*//p' "$chart/Chart.yaml" | tr -d '"'"'"' ')
pkg=$outdir/$name-$version.tgz
[[ -s $pkg ]] || { echo "package.sh: helm did not write $pkg:" >&2; cat "$tmp/out" >&2; exit 1; }
if $index; then
    "$helm" repo index "$outdir" >/dev/null
fi
echo "$pkg"
