#!/usr/bin/env python3
"""A syslog receiver for Grove's log forwarding tests: UDP datagrams, and octet-counted frames (RFC 6587) over TCP
and over TLS (with CERT and KEY). Each message is appended as one line to DIR/udp, DIR/tcp or DIR/tls; the three
ports are written to DIR/ports as "udp tcp tls". Binds 127.0.0.1 only and exits when its parent goes away."""
import os
import socket
import socketserver
import ssl
import sys
import threading
import time

out, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


def record(kind, message):
    with lock, open(os.path.join(out, kind), "a") as f:
        f.write(message.replace("\n", "\\n") + "\n")


class UDP(socketserver.BaseRequestHandler):
    def handle(self):
        record("udp", self.request[0].decode("utf-8", "replace"))


def frames(stream, kind):
    buf = b""
    while True:
        chunk = stream.recv(65536)
        if not chunk:
            break
        buf += chunk
        while b" " in buf:
            length, rest = buf.split(b" ", 1)
            n = int(length)
            if len(rest) < n:
                break
            record(kind, rest[:n].decode("utf-8", "replace"))
            buf = rest[n:]


class TCP(socketserver.BaseRequestHandler):
    def handle(self):
        frames(self.request, "tcp")


context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)


class TLS(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            with context.wrap_socket(self.request, server_side=True) as s:
                frames(s, "tls")
        except (ssl.SSLError, OSError):
            pass


class ThreadingUDP(socketserver.ThreadingMixIn, socketserver.UDPServer):
    pass


class ThreadingTCP(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True


servers = [ThreadingUDP(("127.0.0.1", 0), UDP), ThreadingTCP(("127.0.0.1", 0), TCP), ThreadingTCP(("127.0.0.1", 0), TLS)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
with open(os.path.join(out, "ports.tmp"), "w") as f:
    f.write(" ".join(str(s.server_address[1]) for s in servers))
os.rename(os.path.join(out, "ports.tmp"), os.path.join(out, "ports"))
parent = os.getppid()
while os.getppid() == parent:
    time.sleep(1)
