/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * kube-exec: runs a command in a pod's container through the API server (pods/exec), over the
 * WebSocket protocol the API server speaks (subprotocols v5.channel.k8s.io, falling back to
 * v4.channel.k8s.io). Every WebSocket message carries one channel byte first: 0 stdin, 1 stdout,
 * 2 stderr, 3 the command's status (a metav1.Status in JSON), 255 close of a stream (v5).
 *
 * Standard output goes to a callback as it arrives, in pieces of at most one read (64 KiB):
 * nothing of it is held in memory. The tail of standard error (KUBE_EXEC_STDERR_MAX bytes) is
 * kept for the caller to show.
 *
 * Errors: as kube_request() for the upgrade (-EPERM when RBAC refuses pods/exec, -ENOENT for a
 * missing pod, -EINVAL for a missing container, ...); -EPROTO for a broken WebSocket stream or
 * upgrade; -ETIMEDOUT when timeout_sec passes; -ECANCELED when the client's cancel flag is raised;
 * -ECONNRESET when the stream ends without a status; the output callback's own error. A command
 * that ran and failed is not an error: its exit code is in the result.
 */

#include <stdint.h>
#include <sys/types.h>

#include "cluster/kube.h"

#define KUBE_EXEC_STDERR_MAX 4096U

enum {
        KUBE_EXEC_CHANNEL_STDIN = 0,
        KUBE_EXEC_CHANNEL_STDOUT = 1,
        KUBE_EXEC_CHANNEL_STDERR = 2,
        KUBE_EXEC_CHANNEL_STATUS = 3,
        KUBE_EXEC_CHANNEL_RESIZE = 4,
        KUBE_EXEC_CHANNEL_CLOSE = 255, /* v5: a message naming a stream closes it */
};

/* Called with each piece of standard output; a negative return aborts the exec with it. */
typedef int (*KubeExecOutputFunc)(const void *p, size_t n, void *userdata);
/* Fills buf with up to n bytes of standard input: the count, 0 at its end, or a negative error. */
typedef ssize_t (*KubeExecInputFunc)(void *buf, size_t n, void *userdata);

typedef struct KubeExecResult {
        /* exit code of the command (0 on success), or -1 when it did not run (see message) */
        int exit_code;
        /* the status's message ("command terminated with non-zero exit code: ...") or NULL */
        char *message;
        /* the last KUBE_EXEC_STDERR_MAX bytes of standard error, NUL-terminated */
        char *stderr_tail;
        uint64_t stdout_bytes;
        char protocol[24]; /* the subprotocol the server chose */
} KubeExecResult;

void kube_exec_result_done(KubeExecResult *r);

/*
 * Runs argv (NULL-terminated, no shell unless argv names one) in container (NULL: the pod's
 * only or default container) of namespace/pod, without stdin or a terminal, for at most
 * timeout_sec (0: the client's timeout). On 0 *ret is filled; the caller frees it with
 * kube_exec_result_done().
 */
int kube_exec(KubeClient *c, const char *namespace, const char *pod, const char *container,
              char *const *argv, unsigned timeout_sec, KubeExecOutputFunc out, void *userdata,
              KubeExecResult *ret);
/*
 * kube_exec() with standard input read from in (userdata is passed to both callbacks): sent in
 * frames of at most 32 KiB, then closed where the protocol can say so (v5.channel.k8s.io). Not every
 * server passes the close on to the command (v4 cannot say it; some kubelets drop it), so a
 * command should read a length it is told (`head -c N | ...`) rather than wait for the end.
 */
int kube_exec_stdin(KubeClient *c, const char *namespace, const char *pod, const char *container,
                    char *const *argv, unsigned timeout_sec, KubeExecInputFunc in, KubeExecOutputFunc out,
                    void *userdata, KubeExecResult *ret);

/*
 * The WebSocket stream after the upgrade, as kube_exec() reads it: exposed for the unit test and
 * the fuzzer, which feed it bytes. ex_feed() returns 0, >0 once the status arrived (the caller
 * may stop reading), or a negative error.
 */
typedef struct KubeExecStream KubeExecStream;
int kube_exec_stream_new(KubeExecStream **ret, KubeExecOutputFunc out, void *userdata);
KubeExecStream *kube_exec_stream_free(KubeExecStream *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(KubeExecStream *, kube_exec_stream_free);
int kube_exec_stream_feed(KubeExecStream *s, const void *p, size_t n);
/* true once a close frame arrived: the server wants no more. */
bool kube_exec_stream_closed(KubeExecStream *s);
/* A ping's payload (at most 125 bytes) to answer with a pong, once; false when none is due. */
bool kube_exec_stream_take_ping(KubeExecStream *s, uint8_t buf[static 125], size_t *ret_size);
/* Moves what the stream learnt (status, stderr tail, byte count) into *ret; -ECONNRESET without a status. */
int kube_exec_stream_result(KubeExecStream *s, KubeExecResult *ret);
