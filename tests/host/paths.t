#!/usr/bin/env python3
"""Where tcrun finds things (issue 9, item 3): the binary built in the
source tree runs the tree's recipes, whatever is installed; the
configuration folder's recipes and units come first, and -v names every
file a run loads; --list shows both; make uninstall leaves the
configuration folder alone; a roster with no rows is said and exits 0."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()
conf = tempfile.mkdtemp(prefix="tcrun-conf-")
os.makedirs(os.path.join(conf, "recipes"))
os.makedirs(os.path.join(conf, "bu"))
with open(os.path.join(conf, "recipes", "hello.lua"), "w") as f:
    f.write('-- hello.lua NAME: says hello\nprint("hello " .. (arg[1] or "?"))\n')
with open(os.path.join(conf, "recipes", "verify_isolation.lua"), "w") as f:
    f.write('-- verify_isolation.lua: my own\nprint("mine")\n')

r = tcrun("--list")
t.eq(r.rc, 0, "--list: exit 0")
t.like(r.out, "recipes shipped with tcrun in %s/recipes:\n" % SRC, "names the shipped folder of this tree")
t.like(r.out, "  onboard.lua ROSTER [--out DIR]\n", "lists each recipe with its synopsis")
r = tcrun("--config", conf, "--list")
t.like(r.out, "your recipes in %s/recipes:\n  hello.lua NAME: says hello\n" % conf,
       "--list shows the configuration folder's recipes first")

r = tcrun("-v", "onboard.lua", "--help")
t.like(r.err, "tcrun: debug: script: %s/recipes/onboard.lua" % SRC,
       "-v: the tree's binary runs the tree's recipe (not an installed copy's)")
r = tcrun("--config", conf, "-v", "hello.lua", "world")
t.eq((r.rc, r.out), (0, "hello world\n"), "a recipe of the configuration folder runs by name")
t.like(r.err, "script: %s/recipes/hello.lua" % conf, "-v names it")
r = tcrun("--config", conf, "verify_isolation.lua")
t.eq(r.out, "mine\n", "the configuration folder's recipe comes before a shipped one of that name")

roster = os.path.join(conf, "empty.csv")
with open(roster, "w") as f:
    f.write("username,display_name,email,phone,business_unit,role,environments,cost_center\n")
r = tcrun("-v", "onboard.lua", roster, "--out", os.path.join(conf, "out"))
t.eq(r.rc, 0, "a roster with no rows: exit 0, nothing to do (and no call)")
t.like(r.err, "empty.csv: no rows after the header: nothing to do", "and it says so")
t.like(r.err, "debug: business unit file: %s/recipes/bu/default.lua" % SRC, "-v names the unit files")

make = subprocess.run(["make", "-s", "-n", "uninstall", "PREFIX=/tmp/tcrun-prefix-x"], cwd=SRC,
                      capture_output=True, text=True)
t.ok(make.returncode == 0 and ".config" not in make.stdout and "/tmp/tcrun-prefix-x" in make.stdout,
     "make uninstall removes only what make install put in PREFIX", make.stdout)
t.done()
