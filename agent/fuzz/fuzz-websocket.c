/* SPDX-License-Identifier: Apache-2.0 */

/*
 * What the API server sends after a pods/exec upgrade: WebSocket frames (cluster/websocket.c)
 * carrying the exec channels and the command's status (cluster/kube-exec.c). The input is fed
 * twice, at once and in pieces whose sizes come from its first byte, and both must agree, since
 * a socket may split the stream anywhere.
 */

#include "cluster/kube-exec.h"
#include "fuzz.h"

typedef struct Sum {
        uint64_t bytes;
        uint32_t hash;
} Sum;

static int out(const void *p, size_t n, void *userdata)
{
        Sum *s = userdata;
        const uint8_t *b = p;

        for (size_t i = 0; i < n; i++)
                s->hash = s->hash * 31 + b[i];
        s->bytes += n;
        return 0;
}

static int run(const uint8_t *data, size_t size, size_t step, Sum *sum, int *ret_exit)
{
        _cleanup_(kube_exec_stream_freep) KubeExecStream *s = NULL;
        KubeExecResult res = {};
        int r = 0;

        if (kube_exec_stream_new(&s, out, sum) < 0)
                abort();
        for (size_t off = 0; off < size && r == 0;) {
                size_t k = MIN(step, size - off);

                r = kube_exec_stream_feed(s, data + off, k);
                off += k;
        }
        if (r < 0)
                return r;
        r = kube_exec_stream_result(s, &res);
        if (r < 0)
                return r;
        *ret_exit = res.exit_code;
        if (strlen(res.stderr_tail) > KUBE_EXEC_STDERR_MAX)
                abort();
        kube_exec_result_done(&res);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        Sum a = {}, b = {};
        int ra, rb, ea = -2, eb = -2;
        size_t step;

        if (size < 1)
                return 0;
        step = (size_t) data[0] % 17 + 1;
        data++;
        size--;
        ra = run(data, size, size ? size : 1, &a, &ea);
        rb = run(data, size, step, &b, &eb);
        /* Until the status arrives the pieces do not matter; after it, the rest is not read. */
        if (ra != rb || ea != eb)
                abort();
        if (ra == 0 && (a.bytes != b.bytes || a.hash != b.hash))
                abort();
        return 0;
}
