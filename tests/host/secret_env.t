#!/usr/bin/env python3
"""The secret key outlives neither the environment nor a crash (issue 8,
item 8): once tcrun has read it, the process's original environment block
(/proc/PID/environ) holds no trace of it, its core limit is 0 (it is also
made non-dumpable, which a root test cannot observe), and the script's own
environment has no such variable."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import FAKE, TCRUN, Tap, script  # noqa: E402

t = Tap()
key = FAKE["TENCENTCLOUD_SECRET_KEY"]
token = "SeSsIoNtOkEn-must-never-be-printed-0000"
s = script('io.write(tostring(os.getenv("TENCENTCLOUD_SECRET_KEY")), " ",\n'
           '         tostring(os.getenv("TENCENTCLOUD_SESSION_TOKEN")), "\\n")\n'
           'io.flush()\n'
           'io.read("l")\n')
env = {k: v for k, v in os.environ.items() if not k.startswith(("TENCENTCLOUD_", "TCCLI_"))}
env.update(FAKE, TENCENTCLOUD_SESSION_TOKEN=token, TCRUN_ENDPOINT="http://127.0.0.1:1")
p = subprocess.Popen([TCRUN, s], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, env=env)
first = p.stdout.readline().decode()
try:
    with open("/proc/%d/environ" % p.pid, "rb") as f:
        environ = f.read()
except PermissionError:
    environ = None      # not dumpable: other processes of the user may not read it
with open("/proc/%d/limits" % p.pid) as f:
    limits = f.read()
out, err = p.communicate(b"\n", timeout=30)
t.eq(first, "nil nil\n", "the script sees neither variable")
t.ok(environ is None or (key.encode() not in environ and token.encode() not in environ),
     "/proc/PID/environ shows neither the key nor the token",
     environ and [v for v in environ.split(b"\0") if b"TENCENTCLOUD" in v])
t.ok(environ is None or b"TENCENTCLOUD_SECRET_ID=" + FAKE["TENCENTCLOUD_SECRET_ID"].encode() in environ,
     "while the rest of the environment is intact")
core = [l for l in limits.splitlines() if l.startswith("Max core file size")]
t.ok(core and core[0].split()[4:6] == ["0", "0"], "no core file: the core limit is 0", core)
t.eq(p.returncode, 0, "the run itself is unaffected")
t.ok(key not in (out + err).decode() and token not in (out + err).decode(), "and prints no secret")

# The same variable twice (getenv finds one): both copies are wiped.
LAUNCH = r"""
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char *env[] = { "TENCENTCLOUD_SECRET_ID=AKIDtcruntestEXAMPLE0000000000000000",
	                "TENCENTCLOUD_SECRET_KEY=%s", "TENCENTCLOUD_SECRET_KEY=%s",
	                "TCRUN_ENDPOINT=http://127.0.0.1:1", "PATH=/usr/bin:/bin", NULL };
	(void)argc;
	execve(argv[1], argv + 1, env);
	perror("execve");
	return 127;
}
""" % (key, "second-" + key)
tmp = tempfile.mkdtemp(prefix="tcrun-env-")
with open(os.path.join(tmp, "launch.c"), "w") as f:
    f.write(LAUNCH)
cc = subprocess.run([os.environ.get("CC", "cc"), "-o", os.path.join(tmp, "launch"),
                     os.path.join(tmp, "launch.c")], capture_output=True, text=True)
t.ok(cc.returncode == 0, "a launcher that passes TENCENTCLOUD_SECRET_KEY twice builds", cc.stderr)
p = subprocess.Popen([os.path.join(tmp, "launch"), TCRUN, s], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
first = p.stdout.readline().decode()
with open("/proc/%d/environ" % p.pid, "rb") as f:
    environ = f.read()
p.communicate(b"\n", timeout=30)
t.eq(first, "nil nil\n", "twice in the environment: the script sees neither")
t.ok(key.encode() not in environ, "and /proc/PID/environ shows neither copy",
     [v for v in environ.split(b"\0") if b"TENCENTCLOUD" in v])
shutil.rmtree(tmp, ignore_errors=True)
t.done()
