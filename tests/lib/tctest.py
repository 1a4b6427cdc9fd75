"""Helpers for tcrun's end-to-end tests (Python, standard library only).

    from tctest import Tap, Capture, tcrun, FAKE
    t = Tap()
    with Capture(latency_ms=0) as cap:
        r = tcrun("script.lua", endpoint=cap.url)
        t.ok(r.rc == 0, "runs")
    t.done()

Every tcrun run made through tcrun() is checked for the secret keys it was
given (and any others named): if one shows up in stdout, stderr or a file
the run names, the test fails (secrets must never be printed).
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("TCRUN_SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
TCRUN = os.path.join(SRC, "tcrun")

FAKE = {
    "TENCENTCLOUD_SECRET_ID": "AKIDtcruntestEXAMPLE0000000000000000",
    "TENCENTCLOUD_SECRET_KEY": "SeCrEtKeY-must-never-be-printed-0000",
}


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                for line in str(diag).splitlines() or [""]:
                    print("#   " + line)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def like(self, text, needle, name):
        return self.ok(needle in (text or ""), name,
                       "want %r in:\n%s" % (needle, text))

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def skip(self, why):
        """One test reported as skipped (TAP "ok N # SKIP why")."""
        self.n += 1
        print("ok %d # SKIP %s" % (self.n, why), flush=True)

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err


_config = []


def empty_config():
    """An empty folder, one per test process (removed at exit), to stand
    for XDG_CONFIG_HOME so that no ~/.config/tcrun reaches a test."""
    if not _config:
        _config.append(tempfile.mkdtemp(prefix="tcrun-conf-"))
        atexit.register(shutil.rmtree, _config[0], True)
    return _config[0]


def leaked(text, secrets=None):
    """The secrets that appear in text."""
    secrets = secrets or [FAKE["TENCENTCLOUD_SECRET_KEY"]]
    return [s for s in secrets if s and s in (text or "")]


def tcrun(*args, endpoint=None, env=None, stdin=None, timeout=120,
          files=(), tap=None, secrets=None, cwd=None, preexec_fn=None):
    """Runs ./tcrun (in cwd, when given; preexec_fn runs in the child
    first) with fake credentials and no profile files.  When tap is given,
    records one test that no secret leaked into the output or into the
    named files."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("TENCENTCLOUD_", "TCCLI_", "TCRUN_ENDPOINT", "TCRUN_CONFIG",
                              "TCRUN_STATE_DIR"))}
    e.update(FAKE)
    # The developer's own ~/.config/tcrun and ~/.local/state/tcrun are not
    # the test's business.
    e["XDG_CONFIG_HOME"] = empty_config()
    e["TCRUN_STATE_DIR"] = os.path.join(empty_config(), "state")
    # No test reaches the real API, even by mistake: without an endpoint,
    # calls go to a closed loopback port.
    e["TCRUN_ENDPOINT"] = "http://127.0.0.1:1"
    e.setdefault("TCRUN_JOURNAL_DIR", tempfile.mkdtemp(prefix="tcrun-j-"))
    if env:
        for k, v in env.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
    argv = [TCRUN]
    if endpoint:
        argv += ["--endpoint", endpoint]
    argv += list(args)
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                       env=e, timeout=timeout, cwd=cwd, preexec_fn=preexec_fn)
    r = Result(p.returncode, p.stdout, p.stderr)
    # Every run is scanned for the secret keys it was given, whether or not
    # the test asked; a leak fails the whole test file at once.
    secrets = list(secrets or []) + [FAKE["TENCENTCLOUD_SECRET_KEY"],
                                     e.get("TENCENTCLOUD_SECRET_KEY")]
    texts = [r.out, r.err]
    for f in files:
        if os.path.exists(f):
            with open(f, encoding="utf-8", errors="replace") as fh:
                texts.append(fh.read())
    found = leaked("\n".join(texts), secrets)
    if tap is not None:
        tap.ok(not found, "no secret in the output of: tcrun %s"
               % " ".join(args), "leaked: %r" % found)
    elif found:
        raise AssertionError("tcrun %s printed a secret" % " ".join(args))
    return r


class Capture:
    """Starts tests/lib/capture.py on a free loopback port; stops it."""

    def __init__(self, **flags):
        self.flags = flags

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="tcrun-cap-")
        self.log = os.path.join(self.dir, "requests.jsonl")
        argv = [sys.executable, os.path.join(SRC, "tests", "lib", "capture.py"),
                "--log", self.log]
        for k, v in self.flags.items():
            argv += ["--" + k.replace("_", "-"), str(v)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError("capture server did not start: %r" % line)
        self.url = line.split()[-1]
        return self

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def script(text):
    """Writes a Lua script to a temporary file and returns its path."""
    fd, path = tempfile.mkstemp(suffix=".lua", prefix="tcrun-t-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return path
