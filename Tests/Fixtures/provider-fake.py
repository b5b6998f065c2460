#!/usr/bin/env python3
"""A stand-in for a git provider and for webhook receivers, for Grove's integration tests.

GET serves files under ROOT (bare repositories prepared with `git update-server-info` are fetched over git's
dumb HTTP protocol). Every POST is appended to LOG as one JSON line {method, path, headers, body} and answered
201 with `{}`; POSTs to paths starting with /flaky answer 500 the first FAIL times. The chosen port is written to
PORTFILE. With CERT and KEY it speaks HTTPS. Binds 127.0.0.1 only and exits when its parent (the test) goes away.
"""
import json
import os
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

root, log_path, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
fail = int(sys.argv[4]) if len(sys.argv) > 4 else 0
cert, key = (sys.argv[5], sys.argv[6]) if len(sys.argv) > 6 else (None, None)
lock = threading.Lock()
failures = {"left": fail}


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=root, **kwargs)

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        status = 201
        with lock:
            if self.path.startswith("/flaky") and failures["left"] > 0:
                failures["left"] -= 1
                status = 500
            with open(log_path, "a") as f:
                f.write(json.dumps({"method": "POST", "path": self.path, "status": status,
                                    "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}) + "\n")
        answer = b"{}"
        if self.path.endswith("/site/oauth2/access_token"):
            # Bitbucket Cloud's client credentials grant.
            answer = b'{"access_token": "bb-access-token", "token_type": "bearer", "expires_in": 7200}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if cert:
    # HTTPS with the given (self-signed) certificate.
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
parent = os.getppid()


def watch():
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


threading.Thread(target=watch, daemon=True).start()
server.serve_forever()
