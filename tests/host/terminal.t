#!/usr/bin/env python3
"""Nothing an API, a server, a roster or a unit file says can drive the
terminal or forge a line of tcrun's (issue 8, item 5): every tcrun: line,
error and traceback, failed row and roster problem is escaped (C0, DEL, C1,
bidirectional and invisible controls, bytes that are not UTF-8).  (The plan and the report: tests/lua/recipe.t.)"""
import os
import pty
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import TCRUN, Tap, script, tcrun  # noqa: E402

t = Tap()
ESC = "\x1b[2J\x1b[32m"
RAW = ("\x1b", "\r", "\x85", "\u202e", "\u200b")


def clean(text):
    return not any(c in text for c in RAW)


r = tcrun(script(r'''
tc.log("log \27[2J\27[32m\r\nonboard: 6 employee(s), 6 ok, 0 failed")
tc.warn("warn \194\133 \226\128\174 \226\128\139 \255")
print(tc.printable("a\27b\ncd\t\127 \\x1b"))
tc.each({ 1 }, function() error("row \27[2J\nFAKE", 0) end)
error("boom \27[2J\nFAKE: all good")
'''))
lines = r.err.splitlines()
t.ok(clean(r.err) and clean(r.out), "no raw control character reaches stderr or stdout", repr(r.err))
t.like(r.err, r"tcrun: log \x1b[2J\x1b[32m\x0d\x0aonboard: 6 employee(s)", "tc.log: one line, escaped")
t.like(r.err, r"tcrun: warning: warn \u{0085} \u{202E} \u{200B} \xff", "tc.warn: C1, bidi, invisible, bad UTF-8")
t.eq(r.out, "a\\x1bb\\x0acd\\x09\\x7f \\x1b\n", "tc.printable: escaped and idempotent on backslashes")
t.like(r.err, r"tcrun: warning: row 1 failed: row \x1b[2J\x0aFAKE", "a failed row: one line")
t.ok(all(l.startswith(("tcrun: ", "  ")) for l in lines),
     "every line is tcrun's own or an indented continuation", "\n".join(lines))
t.ok(any(l == "  FAKE: all good" for l in lines), "an error's own newline only starts an indented line")
t.eq(r.rc, 3, "the script error still exits 3")

tmp = tempfile.mkdtemp(prefix="tcrun-term-")
roster = os.path.join(tmp, "r.csv")
with open(roster, "w", encoding="utf-8") as f:
    f.write("username,\x1b[2Jx,\x1b[2Jx\nann,1,2\n")
r = tcrun("onboard.lua", roster)
t.eq(r.rc, 2, "a roster with a hostile repeated column name: exit 2")
t.ok(clean(r.err) and "\\x1b[2Jx" in r.err, "the problem names the column, escaped", repr(r.err))

# On a terminal a message starts by clearing its line, so that it never
# runs into a progress bar drawn there; in a pipe, nothing is added.
path = script('io.stderr:write("\\rbar [###...] 3/9") io.stderr:flush() tc.log("a line")')
master, slave = pty.openpty()
p = subprocess.Popen([TCRUN, path], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
got = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    got += chunk
p.wait()
os.close(master)
t.ok(b"3/9\r\x1b[Ktcrun: a line" in got, "on a terminal: the bar's line is cleared first", repr(got))
r = tcrun(path)
t.ok("3/9tcrun: a line" in r.err, "in a pipe: no terminal codes", repr(r.err))
t.done()
