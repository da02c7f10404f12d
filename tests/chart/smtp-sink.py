#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# A local SMTP server for tests/chart/test-mail.sh (aiosmtpd, Debian's python3-aiosmtpd): listens on
# 127.0.0.1:PORT, accepts AUTH PLAIN/LOGIN only for USER with the password in PASSWORD_FILE, and
# writes every message it is given to OUTDIR/N.eml with the envelope in OUTDIR/N.json.
#   /usr/bin/python3 smtp-sink.py PORT USER PASSWORD_FILE OUTDIR
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, user, password_file, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
password = open(password_file, "rb").read().rstrip(b"\r\n")


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and \
        auth_data.password == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)


class Handler:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Handler.count += 1
        base = os.path.join(outdir, str(Handler.count))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "authenticated_as": session.auth_data if session.authenticated else None}, f)
        return "250 OK stored"


controller = Controller(Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
                        auth_required=True, auth_require_tls=False)
controller.start()
print(f"smtp-sink listening on 127.0.0.1:{port}", flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
signal.signal(signal.SIGINT, lambda *_: done.set())
done.wait()
controller.stop()
