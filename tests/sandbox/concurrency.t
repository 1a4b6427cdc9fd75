#!/usr/bin/env python3
"""concurrency.t: 64 concurrent clients on keep-alive connections creating
users leave exactly the users they created, none twice; racing creators of
one name get exactly one success."""
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError  # noqa: E402

CLIENTS, PER_CLIENT = 64, 8
t = Tap(7)

with Sandbox() as sb:
    barrier = threading.Barrier(CLIENTS)
    created, errors, lock = [], [], threading.Lock()

    def worker(k):
        c = sb.client()
        try:
            c.call("cam", "GetUserAppId")  # open the connection, then start together
            barrier.wait(timeout=30)
            for i in range(PER_CLIENT):
                name = "c%02d-u%d" % (k, i)
                r = c.call("cam", "AddUser", {"Name": name, "ConsoleLogin": 0})
                with lock:
                    created.append((name, r["Uin"], r["Uid"]))
        except Exception as e:  # reported through `errors`
            with lock:
                errors.append("%s: %r" % (k, e))
        finally:
            c.close()

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.monotonic() - start
    want = CLIENTS * PER_CLIENT
    t.ok(not errors, "%d clients x %d AddUser on %d simultaneous keep-alive connections: no error (%.2fs)"
         % (CLIENTS, PER_CLIENT, CLIENTS, took), "\n".join(errors[:10]))
    users = sb.call("cam", "ListUsers")["Data"]
    names = [u["Name"] for u in users]
    t.eq(len(users), want, "ListUsers returns exactly %d users" % want)
    t.eq(sorted(names), sorted(n for n, _u, _i in created), "... exactly the ones the clients created")
    t.eq(len(set(names)), len(names), "... none twice")
    t.ok(len({u["Uin"] for u in users}) == want and len({u["Uid"] for u in users}) == want,
         "every user has its own Uin and Uid")
    t.eq({u["Name"]: u["Uin"] for u in users}, {n: u for n, u, _i in created},
         "each Uin answered by AddUser is the one ListUsers shows")

    barrier = threading.Barrier(CLIENTS)
    outcomes = []

    def racer():
        c = sb.client()
        c.call("cam", "GetUserAppId")
        barrier.wait(timeout=30)
        try:
            c.call("cam", "AddUser", {"Name": "contested"})
            res = "ok"
        except ApiError as e:
            res = e.code
        with lock:
            outcomes.append(res)
        c.close()
    threads = [threading.Thread(target=racer) for _ in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.ok(outcomes.count("ok") == 1 and outcomes.count("InvalidParameter.SubUserNameInUse") == CLIENTS - 1,
         "64 racing AddUser calls for one name: one success, 63 SubUserNameInUse",
         sorted(set(outcomes)))
sys.exit(t.done())
