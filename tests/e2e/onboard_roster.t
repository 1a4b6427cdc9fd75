#!/usr/bin/env python3
"""onboard.lua refuses a malformed roster before any write: every problem
as file:line: message, a non-zero exit, and nothing in CloudAudit but
reads.  A roster with a BOM, CRLF and quoted fields plans the same writes
as the plain one."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import SRC, Tap  # noqa: E402
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402
from account import onboard, write_count  # noqa: E402

HEADER = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"
ALICE = "alice.wang,Alice,alice.wang@example.com,+86 138 0000 0001,platform,admin,dev;prod,CC-1,yes\n"
BOB = "bob.li,Bob,bob.li@example.com,+86 138 0000 0002,platform,operator,prod,CC-1,no\n"

# name, roster text (bytes), [(line, message substring)]
CASES = [
    ("duplicate username", HEADER + ALICE + BOB + ALICE.replace("Alice", "Alice 2"),
     [(4, "duplicate username 'alice.wang' (first on line 2)")]),
    ("duplicate username, other case", HEADER + ALICE + ALICE.replace("alice.wang,", "Alice.Wang,", 1),
     [(3, "duplicate username 'Alice.Wang' (first on line 2)")]),
    ("unknown role", HEADER + ALICE + BOB.replace("operator", "boss"),
     [(3, "unknown role 'boss'")]),
    ("unknown environment", HEADER + ALICE.replace("dev;prod", "dev;qa") + BOB,
     [(2, "unknown environment 'qa'")]),
    ("bad email", HEADER + ALICE + BOB.replace("bob.li@example.com", "bob.li.example.com"),
     [(3, "invalid email 'bob.li.example.com': needs exactly one @")]),
    ("missing column", HEADER.replace("email,", "") + ALICE.replace("alice.wang@example.com,", ""),
     [(1, "missing required column 'email'")]),
    ("ragged row", HEADER + ALICE + BOB.replace(",no\n", ",no,extra\n"),
     [(3, "expected 9 fields, got 10")]),
    ("invalid UTF-8", (HEADER + ALICE).encode() + BOB.replace("Bob", "B\xffb").encode("latin-1"),
     [(3, "invalid UTF-8")]),
    ("bad business unit name", HEADER + ALICE + BOB.replace("platform", "Platform Team"),
     [(3, "invalid business_unit 'Platform Team'")]),
    ("bad username", HEADER + ALICE + BOB.replace("bob.li,", "bob li,", 1),
     [(3, "invalid character ' ' in username 'bob li'")]),
    ("bad workspace", HEADER + ALICE + BOB.replace(",no\n", ",maybe\n"),
     [(3, "invalid workspace 'maybe'")]),
    ("every problem of the file", HEADER + ALICE.replace("admin", "root") + BOB.replace("prod", "qa"),
     [(2, "unknown role 'root'"), (3, "unknown environment 'qa'")]),
]

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-roster-")
with Sandbox("--async-delay-ms", "100") as sb:
    for i, (name, text, want) in enumerate(CASES):
        path = os.path.join(tmp, "roster%d.csv" % i)
        with open(path, "wb") as f:
            f.write(text if isinstance(text, bytes) else text.encode())
        out = os.path.join(tmp, "out%d" % i)
        w0 = write_count(sb)
        r = onboard(sb, path, out)
        lines = [l for l in r.err.splitlines() if l.startswith(path + ":")]
        t.ok(r.rc != 0 and len(lines) == len(want)
             and all(l.startswith("%s:%d: " % (path, n)) and msg in l
                     for l, (n, msg) in zip(lines, want)),
             "%s: fails (exit %d) with %s" % (name, r.rc, "; ".join("line %d: %s" % w for w in want)),
             r.err)
        t.eq(write_count(sb) - w0, 0, "%s: no write call reached the sandbox" % name)
        t.ok(not os.path.exists(out) or not account.reports(out), "%s: no report written" % name)

    # The same employees, with a BOM, CRLF line ends and every field
    # quoted: the dry run plans the same writes as for the plain file.
    plain = os.path.join(tmp, "plain.csv")
    fancy = os.path.join(tmp, "fancy.csv")
    with open(plain, "w", encoding="utf-8") as f:
        f.write(HEADER + ALICE + BOB)
    with open(fancy, "wb") as f:
        rows = [l.split(",") for l in (HEADER + ALICE + BOB).splitlines()]
        f.write(b"\xef\xbb\xbf" + "".join(",".join('"%s"' % c for c in r) + "\r\n"
                                           for r in rows).encode())
    a = onboard(sb, plain, os.path.join(tmp, "p"), "--dry-run")
    b = onboard(sb, fancy, os.path.join(tmp, "f"), "--dry-run")
    t.ok(a.rc == 0 and b.rc == 0 and a.out == b.out and "alice.wang:\n  1. cam.AddUser" in a.out,
         "BOM, CRLF and quoted fields: the same plan as the plain roster", b.err + b.out)

shutil.rmtree(tmp, ignore_errors=True)
t.done()
