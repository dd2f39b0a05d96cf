"""A webhook receiver for the tests, written the way a receiver of Jackson's
directory-sync events is: it checks `BoxyHQ-Signature: t=<ms>,s=<hex>` with
HMAC-SHA256(secret, "<t>.<body>") before it trusts anything.

Usage: receiver.py CONFIG LOG PORTFILE [PORT]

CONFIG is a JSON file, read again for every request (the test rewrites it to
change a path's secret or behaviour): {"/path": {"secret": "...", "mode": "ok"}}.
Modes: ok (200 when the signature verifies, else 401), 500, flaky (every
third request 500, the others as ok), hang (never
answers), big (200 with a 10 MB body), redirect (302), close (closes the
connection without answering), garbage (answers a line that is not HTTP).
Unknown paths answer 404.

Every request is appended to LOG as one JSON line, before it is answered:
path, mode, the signature's t, whether it verified over the raw body
("raw_ok") and over the body as JSON.stringify(JSON.parse(body)) would give
it in Python ("restringified_ok", how receivers that hash the parsed body
check it), the event ids header, the body, and the status answered.
The bound port is written to PORTFILE.
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONFIG, LOG, PORTFILE = sys.argv[1], sys.argv[2], sys.argv[3]
PORT = int(sys.argv[4]) if len(sys.argv) > 4 else 0
LOCK = threading.Lock()
COUNTS = {}


def config():
    try:
        with open(CONFIG) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def check(secret, header, body):
    """The Jackson receiver's check: split the header, recompute, compare in constant time."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t, s = parts["t"], parts["s"]
    except (ValueError, KeyError):
        return None, False, False
    raw = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    raw_ok = hmac.compare_digest(raw, s)
    try:
        again = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False).encode()
        re = hmac.new(secret.encode(), t.encode() + b"." + again, hashlib.sha256).hexdigest()
        re_ok = hmac.compare_digest(re, s)
    except ValueError:
        re_ok = False
    return t, raw_ok, re_ok


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        route = config().get(self.path) or {"mode": "missing"}
        mode = route.get("mode", "ok")
        t, raw_ok, re_ok = check(route.get("secret", ""), self.headers.get("BoxyHQ-Signature", ""), body)
        if mode == "flaky":
            # Every third request to the path fails: retries interleave with new events.
            with LOCK:
                COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
                mode = "ok" if COUNTS[self.path] % 3 else "500"
        status = {"ok": 200 if raw_ok else 401, "500": 500, "hang": 0, "big": 200, "redirect": 302, "close": 0,
                  "garbage": 0, "missing": 404}.get(mode, 500)
        entry = {"path": self.path, "mode": mode, "t": t, "raw_ok": raw_ok, "restringified_ok": re_ok,
                 "ids": self.headers.get("X-Setuplink-Event-Ids"), "content_type": self.headers.get("Content-Type"),
                 "expect": self.headers.get("Expect"), "status": status, "time": int(time.time() * 1000),
                 "body": body.decode("utf-8", "replace")}
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps(entry) + "\n")
        if mode == "hang":
            time.sleep(120)
            return
        if mode == "close":
            self.close_connection = True
            return
        if mode == "garbage":
            # Not HTTP at all: what a mail or SSH server would say, then hang up.
            self.wfile.write(b"220 mail.example.com ESMTP ready\r\n")
            self.close_connection = True
            return
        if mode == "big":
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024 * 1024))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(160):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%d/elsewhere" % self.server.server_address[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.answer(status, b"ok" if status == 200 else b"receiver says no")

    def answer(self, status, text):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", PORT), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
