#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The packaged example configuration must parse, and must mention every key
# the daemon knows with the default the daemon really has, so it cannot drift.
#
#   check-config-example.sh STOREAGENTD EXAMPLE
set -euo pipefail
daemon=$1
example=$2

effective=$("$daemon" --config "$example" --check-config)
defaults=$("$daemon" --config /dev/null --check-config)
# The example sets only kubeconfig; with the marks of the commented-out keys
# ("#key:" and "#  key:") removed it is the full default file. Prose is "# text".
uncommented=$(sed -E 's/^#([a-z_]+:|  +[a-z_]+:)/\1/' "$example" | grep -vE '^\s*#|^\s*$')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$uncommented" >"$tmp/full.yaml"
full=$("$daemon" --config "$tmp/full.yaml" --check-config)

fail=0
# Every default, key by key, must read the same from the uncommented example
# (kubeconfig aside: the example sets it on purpose).
diff <(grep -v kubeconfig <<<"$defaults" | tail -n +2) <(grep -v kubeconfig <<<"$full" | tail -n +2) || {
	echo "FAIL: the commented defaults in $example differ from the daemon's (diff above: daemon < example)"
	fail=1
}
grep -q "^kubeconfig: \".*/storeagent/kubeconfig\"" <<<"$effective" || {
	echo "FAIL: the example does not point kubeconfig at the storeagent kubeconfig"
	fail=1
}
if [[ $fail == 0 ]]; then
	echo "ok: $example parses and documents every key with its default"
	echo "1 passed, 0 failed"
else
	echo "0 passed, 1 failed"
fi
exit $fail
