#!/usr/bin/env python3
"""A loopback HTTP server that records what it receives and answers like
Tencent Cloud API 3.0, for black-box tests and benchmarks of tcrun.

    capture.py [--log FILE] [--latency-ms MS] [--fail CODE:N] [--status S:N]
               [--reset N]

Prints "capture listening on http://127.0.0.1:PORT" when ready.  Every
request is appended to --log as one JSON line: time, method, path, headers
(names lower-cased), body (text).  The answer is
{"Response": {"RequestId": "capture-N", "Echo": <the body parsed>}}, except:
--fail CODE:N answers the first N requests with Error.Code CODE;
--status S:N answers the first N with HTTP status S;
--reset N closes the first N connections without an answer.
Standard library only.
"""
import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.count = 0
        self.active = 0
        self.max_active = 0
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # quiet
        pass

    def do_POST(self):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with st.lock:
            st.count += 1
            n = st.count
            st.active += 1
            st.max_active = max(st.max_active, st.active)
            active = st.active
            if st.log:
                st.log.write(json.dumps({
                    "time": time.time(), "n": n, "active": active,
                    "method": self.command, "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                }, ensure_ascii=False) + "\n")
                st.log.flush()
        try:
            a = st.args
            if a.latency_ms:
                time.sleep(a.latency_ms / 1000.0)
            if n <= a.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
                self.connection.close()
                return
            status = 200
            resp = {"RequestId": "capture-%d" % n}
            if n <= a.status_n:
                status = a.status
            elif n <= a.fail_n:
                resp["Error"] = {"Code": a.fail_code, "Message": "injected"}
            else:
                try:
                    resp["Echo"] = json.loads(body or b"{}")
                except ValueError:
                    resp["Echo"] = None
            out = json.dumps({"Response": resp}, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        finally:
            with st.lock:
                st.active -= 1


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that hung up (interrupted, timed out) is expected here.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--fail", default="")
    p.add_argument("--status", default="")
    p.add_argument("--reset", type=int, default=0)
    a = p.parse_args()
    a.fail_code, a.fail_n = (a.fail.split(":") + ["0"])[:2] if a.fail else ("", "0")
    a.fail_n = int(a.fail_n)
    s, sn = (a.status.split(":") + ["0"])[:2] if a.status else ("200", "0")
    a.status, a.status_n = int(s), int(sn)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(a)
    print("capture listening on http://127.0.0.1:%d" % srv.server_address[1],
          flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
