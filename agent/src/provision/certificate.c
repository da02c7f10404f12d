/* SPDX-License-Identifier: Apache-2.0 */

/* Whether an https store's certificate, issued by cert-manager through stores.tls.cluster_issuer, is Ready. */

#include "basic/utf8.h"
#include "basic/util.h"
#include "provision/provision-internal.h"

/* The Ready condition of a cert-manager object, when it is about the object's current spec. */
static json_t *ready_condition(json_t *o)
{
        json_int_t gen = json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
        json_t *c;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c) {
                json_t *observed = json_object_get(c, "observedGeneration");
                if (!streq_ptr(json_string_value(json_object_get(c, "type")), "Ready"))
                        continue;
                /* A condition written for an older spec (a changed host) says nothing about this one. */
                if (json_is_integer(observed) && json_integer_value(observed) < gen)
                        return NULL;
                return c;
        }
        return NULL;
}

void check_certificate(Job *j, int *total, int *ready, char *waiting_on, size_t n)
{
        _cleanup_(json_decrefp) json_t *cert = NULL;
        _cleanup_free_ char *name = NULL, *path = NULL;
        const char *why;
        json_t *cond;
        int r;

        assert(j && total && ready && waiting_on);
        if (!streq(j->set.url_scheme, "https") || isempty(j->set.cluster_issuer))
                return;
        /* cert-manager's ingress-shim names the Certificate after the Ingress's TLS Secret, <release>-tls. */
        if (asprintf(&name, "%s-tls", j->store->name) < 0 ||
            kube_path(&path, "cert-manager.io/v1", "certificates", j->ns, name) < 0)
                return;
        (*total)++;
        r = kube_get(j->kube, path, &cert);
        cond = r >= 0 ? ready_condition(cert) : NULL;
        if (cond && streq_ptr(json_string_value(json_object_get(cond, "status")), "True")) {
                (*ready)++;
                return;
        }
        if (waiting_on[0])
                return;
        if (r == -ENOENT)
                why = "not created yet (is cert-manager running?)";
        else if (r < 0)
                why = "cannot be read";
        else
                why = cond ? json_string_value(json_object_get(cond, "message")) : "not issued yet";
        utf8_snprintf(waiting_on, n, "Certificate %s (issuer %s): %s", name, j->set.cluster_issuer, strna(why));
}
