#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The chart is well formed: `helm lint --strict` is clean with the agent's
# values, values-local.yaml and values-prod.yaml; what it renders is what those
# values ask for; and every object passes the real API server's validation and
# admission (`helm install --dry-run=server`) in a namespace prepared like the
# agent's. Needs the control plane (tests/cluster/up); exits non-zero on failure.
set -euo pipefail
# shellcheck source=tests/chart/lib.sh
. "$(dirname "$0")/lib.sh"

step "helm $(helm version --template '{{.Version}}'), chart $CHART"
agent_values shop1 "$WORK/agent.yaml"

step "helm lint --strict"
for values in "$WORK/agent.yaml" "$CHART/values-local.yaml" "$CHART/values-prod.yaml"; do
    out=$(helm lint --strict "$CHART" -f "$values" 2>&1) || fail "helm lint --strict -f ${values#"$WORK"/}:"$'\n'"$out"
    grep -q '0 chart(s) failed' <<<"$out" || fail "helm lint -f ${values#"$WORK"/}:"$'\n'"$out"
    ok "lint --strict clean with $(basename "$values")"
done

step "what the agent's values render"
helm template shop1 "$CHART" -n store-shop1 -f "$WORK/agent.yaml" >"$WORK/agent.out" ||
    fail "helm template with the agent's values"
kinds=$(sed -n 's/^kind: //p' "$WORK/agent.out" | sort | xargs)
[[ $kinds == "ConfigMap ConfigMap ConfigMap Deployment Ingress Job PersistentVolumeClaim PersistentVolumeClaim Service Service StatefulSet" ]] ||
    fail "rendered kinds: $kinds"
ok "renders $kinds"
grep -q '^kind: Secret' "$WORK/agent.out" && fail "the chart renders a Secret; credentials belong to the agent"
ok "no Secret in the release"
grep -q '^  name: shop1-setup-r1$' "$WORK/agent.out" || fail "setup Job is not named shop1-setup-r1"
grep -q 'helm.sh/hook' "$WORK/agent.out" && fail "a helm hook is rendered; setup must be an ordinary release object"
ok "setup Job shop1-setup-r1 is an ordinary release object"
grep -q "define('WP_HOME', 'http://shop1.localtest.me');" "$WORK/agent.out" || fail "WP_HOME is not http://shop1.localtest.me"
ok "WordPress URL http://shop1.localtest.me"
n=$(grep -c 'readOnlyRootFilesystem: true' "$WORK/agent.out")
(( n == 3 )) || fail "$n containers with a read-only root filesystem, expected 3"
n=$(grep -c 'runAsNonRoot: true' "$WORK/agent.out")
(( n == 6 )) || fail "runAsNonRoot set $n times, expected 6 (3 pods, 3 containers)"
ok "all 3 containers non-root with a read-only root filesystem"

step "values-prod.yaml: TLS through cert-manager"
helm template shop1 "$CHART" -n store-shop1 -f "$CHART/values-prod.yaml" >"$WORK/prod.out" || fail "helm template -f values-prod.yaml"
grep -q 'cert-manager.io/cluster-issuer: "letsencrypt-prod"' "$WORK/prod.out" || fail "no cert-manager annotation"
grep -q 'secretName: "shop1-tls"' "$WORK/prod.out" || fail "no TLS secret shop1-tls"
grep -q "define('WP_HOME', 'https://shop1.shops.example.com');" "$WORK/prod.out" || fail "WP_HOME is not https://shop1.shops.example.com"
ok "Ingress TLS for shop1.shops.example.com via ClusterIssuer letsencrypt-prod, WordPress on https"

step "values-local.yaml: nginx class, localtest.me"
helm template demo "$CHART" -f "$CHART/values-local.yaml" >"$WORK/local.out" || fail "helm template -f values-local.yaml"
grep -q 'ingressClassName: "nginx"' "$WORK/local.out" || fail "ingressClassName is not nginx"
grep -q 'host: "demo.localtest.me"' "$WORK/local.out" || fail "host is not demo.localtest.me"
ok "Ingress demo.localtest.me, class nginx"

step "helm install --dry-run=server"
store_namespace chart-dryrun
out=$(helm install shop1 "$CHART" -n "$NS" -f "$WORK/agent.yaml" --dry-run=server 2>&1) ||
    fail "helm install --dry-run=server:"$'\n'"$out"
ok "the API server accepts every object (validation and admission, dry run)"
left=$(kc -n "$NS" get all,configmap,pvc,ingress -l app.kubernetes.io/instance=shop1 -o name)
[[ -z $left ]] || fail "dry run left objects: $left"
ok "dry run created nothing"

echo "PASS $TEST_NAME"
