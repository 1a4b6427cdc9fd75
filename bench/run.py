#!/usr/bin/env python3
"""tcrun's speed goals, measured (issue 2), on this machine:

1. 1,000 calls against a loopback server that answers after 50 ms, with
   --parallel 32 --rate-limit 0 (goal: under 1.9 s; the bound is
   1000 / 32 * 50 ms = 1.56 s), next to the official Node SDK with 32
   workers against the same server in the same run, with each client's
   CPU time per call.
2. tcrun running an empty script (goal: under 5 ms wall), next to lua5.4.

Run with `make bench`.  Prints a table; asserts nothing.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
TCRUN = os.path.join(SRC, "tcrun")
ENV = dict(os.environ, TENCENTCLOUD_SECRET_ID="AKIDbench",
           TENCENTCLOUD_SECRET_KEY="benchsecret",
           TCRUN_JOURNAL_DIR="/tmp/tcrun-bench-journal")
CALLS, WORKERS, ROUNDS = 1000, 32, 5


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv):
    c0, t0 = child_cpu(), time.perf_counter()
    subprocess.run(argv, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0, child_cpu() - c0


def main():
    srv = subprocess.Popen(["node", os.path.join(HERE, "server.js"),
                            "--latency-ms=50"], stdout=subprocess.PIPE, text=True)
    url = srv.stdout.readline().split()[-1]
    try:
        tc, node = [], []
        for _ in range(ROUNDS):
            tc.append(timed([TCRUN, "-q", "--parallel", str(WORKERS),
                             "--rate-limit", "0", "--endpoint", url,
                             os.path.join(HERE, "calls.lua"), str(CALLS)]))
            out = subprocess.run(["node", os.path.join(HERE, "node_sdk.js"), url,
                                  str(CALLS), str(WORKERS)], env=ENV, check=True,
                                 capture_output=True, text=True).stdout
            j = json.loads(out)
            node.append((j["wall"], j["cpu"]))
    finally:
        srv.terminate()
    print("1,000 calls, 50 ms latency, 32 in flight (median of %d runs)" % ROUNDS)
    print("  bound 1000/32*50ms = 1.56 s; goal < 1.9 s")
    for name, runs in (("tcrun", tc), ("node sdk", node)):
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        print("  %-9s wall %.3f s   cpu %.3f s   cpu/call %.0f us"
              % (name, wall, cpu, cpu / CALLS * 1e6))

    # Start-up: 200 runs in one shell loop, so Python's own fork/exec cost
    # (about 1.5 ms) stays out of the figure; the loop's is in it.
    empty = os.path.join(HERE, "empty.lua")
    for name, cmd in (("tcrun", TCRUN), ("lua5.4", "lua5.4")):
        loop = "i=0; while [ $i -lt 200 ]; do %s %s; i=$((i+1)); done" % (cmd, empty)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(["sh", "-c", loop], env=ENV, check=True)
            runs.append((time.perf_counter() - t0) / 200)
        print("empty script, %-7s %.2f ms per run (best of 3 loops of 200)"
              % (name, min(runs) * 1e3))


if __name__ == "__main__":
    sys.exit(main())
