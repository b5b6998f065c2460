#!/usr/bin/env python3
"""A local SMTP sink for tests: accepts every message on 127.0.0.1 and appends it to a file.
Usage: smtp-sink.py OUTFILE PORTFILE  (writes the port it listens on to PORTFILE; exits when its parent does)."""
import os, socketserver, sys, threading, time

out_path, port_path = sys.argv[1], sys.argv[2]
lock = threading.Lock()

class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.send("220 sink ready")
        data_mode, lines, rcpt = False, [], []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    with lock, open(out_path, "a") as f:
                        f.write("RCPT: " + ",".join(rcpt) + "\n" + "\n".join(lines) + "\n--END--\n")
                    data_mode, lines, rcpt = False, [], []
                    self.send("250 queued")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.send("250-sink")
                self.send("250 AUTH PLAIN")
            elif verb == "AUTH":
                self.send("235 ok")
            elif verb == "MAIL":
                self.send("250 ok")
            elif verb == "RCPT":
                rcpt.append(line.split(":", 1)[1].strip("<> "))
                self.send("250 ok")
            elif verb == "DATA":
                data_mode = True
                self.send("354 go on")
            elif verb == "QUIT":
                self.send("221 bye")
                return
            else:
                self.send("250 ok")

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

server = Server(("127.0.0.1", 0), Handler)
# Written whole and renamed into place, so a reader never sees a partial port.
with open(port_path + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_path + ".tmp", port_path)
parent = os.getppid()

def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)

threading.Thread(target=watch, daemon=True).start()
threading.Timer(600, lambda: os._exit(0)).start()
server.serve_forever()
