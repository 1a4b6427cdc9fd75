"""Start tests/sandbox/tcsandbox for a test, and stop it afterwards.

    sys.path.insert(0, os.path.join(SRCDIR, "tests", "lib"))
    from sandbox import Sandbox
    with Sandbox("--async-delay-ms", "100") as sb:
        sb.url, sb.port, sb.secret_id, sb.secret_key, sb.owner_uin, sb.state_path
        sb.call("cam", "ListUsers")        # signed with the root key
        sb.restart()                        # SIGTERM, then start again on the same port
        sb.kill()                           # SIGKILL; sb.start() brings it back
    # stopped, temp dir removed

With --fault-rate or --reset-rate among the flags and no --seed, it adds
--seed: $TCSANDBOX_SEED when set, else a random one; sb.seed holds it, and
tests print it, so a failing fault test can be replayed with
TCSANDBOX_SEED=N.

It runs on port 0 in a fresh temp dir (state in sb.state_path), waits for the
"tcsandbox listening on ..." line (bounded), and sets the root key through
TENCENTCLOUD_SECRET_ID/KEY so tests never pick up a real key from the
environment.  sb.env() gives the environment for running tcrun against it.

Several accounts (hub and spokes):

    with Sandbox(members=["dev", "test", "staging", "prod"]) as sb:
        sb.members                  # {"dev": 100010000001, "test": 100020000001, ...}
        sb.call("cam", "ListUsers", account=sb.members["dev"])   # as dev's root
        sb.member_key(uin)          # (SecretId, SecretKey) of that member's root
        w = sb.world(sb.members["dev"])   # dev's saved state (hub: sb.world())
        w["roles"], w["users"], w["policies"], w["tmpkeys"]      # see store.fresh()
        sb.org()                    # the Organization's saved state (or None)

members=... passes --members: accounts the Organization created earlier, in
its root department, with OrganizationAccessControlRole ready.  The k-th
member's UIN is 100000000001 + k * 10000000.  A member's root key is a
sandbox-only convenience (a real created member has no API key until someone
signs in): it is derived from the hub's root secret (tcsb.organization.
member_root_key) and printed nowhere; only sb knows it.  sb.world() and
sb.org() read the state file, which holds every acknowledged write (reads of
a sandbox without --state are not possible).  Calls to "organization" are
sent with version 2021-03-31.
"""
import hashlib
import hmac
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TCSANDBOX = os.path.join(os.path.dirname(HERE), "sandbox", "tcsandbox")
sys.path.insert(0, HERE)
import tc3client  # noqa: E402

tc3client.VERSIONS.setdefault("organization", "2021-03-31")

SECRET_ID = "AKIDtcsandboxROOT0000000000000000000"
SECRET_KEY = "tcsandboxRootSecretKey0000000000"
OWNER_UIN = 100000000001
APPID = 1300000001
LISTEN_RE = re.compile(r"^tcsandbox listening on (http://127\.0\.0\.1:(\d+))$")
MEMBER_STEP = 10000000


class Sandbox:
    def __init__(self, *flags, secret_id=SECRET_ID, secret_key=SECRET_KEY, state=True,
                 start_timeout=20, keep_dir=False, members=None):
        self.flags = [str(f) for f in flags]
        names = list(members or [])
        if names:
            self.flags += ["--members", ",".join(names)]
        # The k-th member of a fresh sandbox; sb.world()/org() read the truth.
        self.members = {n: OWNER_UIN + (i + 1) * MEMBER_STEP for i, n in enumerate(names)}
        self.seed = None
        if ({"--fault-rate", "--reset-rate"} & set(self.flags)) and "--seed" not in self.flags:
            self.seed = int(os.environ.get("TCSANDBOX_SEED") or random.randrange(1 << 31))
            self.flags += ["--seed", str(self.seed)]
        self.secret_id, self.secret_key = secret_id, secret_key
        self.owner_uin, self.appid = OWNER_UIN, APPID
        self.dir = tempfile.mkdtemp(prefix="tcsandbox-")
        self.state_path = os.path.join(self.dir, "state.json") if state else None
        self.log_path = os.path.join(self.dir, "tcsandbox.log")
        self.start_timeout, self.keep_dir = start_timeout, keep_dir
        self.proc, self.port, self.url = None, 0, None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def start(self):
        """Start (again) on the previous port, or a free one the first time."""
        assert self.proc is None, "already running"
        argv = [sys.executable, TCSANDBOX, "--port", str(self.port)] + self.flags
        if self.state_path:
            argv += ["--state", self.state_path]
        env = dict(os.environ, TENCENTCLOUD_SECRET_ID=self.secret_id,
                   TENCENTCLOUD_SECRET_KEY=self.secret_key)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, env=env)
        log.close()
        line = self._read_line(self.start_timeout)
        m = LISTEN_RE.match(line)
        if not m:
            self.kill()
            raise RuntimeError("tcsandbox did not start: %r\n%s" % (line, self.log()))
        self.url, self.port = m.group(1), int(m.group(2))
        if self.members and self.state_path:
            uins = self.member_uins()
            self.members = {n: uins.get(n, u) for n, u in self.members.items()}
        return self

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                break
            chunk = os.read(fd, 1)
            if not chunk:
                break
            buf += chunk
        return buf.decode(errors="replace").strip()

    def stop(self, timeout=15):
        """SIGTERM and wait (state is saved); SIGKILL if it hangs."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self._reap()
        return rc

    def kill(self):
        """SIGKILL: no chance to save anything."""
        if self.proc is None:
            return None
        self.proc.kill()
        rc = self.proc.wait()
        self._reap()
        return rc

    def _reap(self):
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def call(self, service, action, params=None, secret_id=None, secret_key=None, account=None,
             **kw):
        """A signed call (the hub's root key by default; account=UIN: that
        member's root key); returns the Response or raises tc3client.ApiError."""
        if account is not None and secret_id is None:
            secret_id, secret_key = self.member_key(account)
        return tc3client.call(self.url, service, action, params or {},
                              secret_id or self.secret_id, secret_key or self.secret_key, **kw)

    def member_key(self, uin):
        """The root key pair of member account uin (sandbox-only convenience)."""
        sid = ("AKIDtcsbMEMBER%d" % int(uin)).ljust(36, "0")
        skey = hmac.new(self.secret_key.encode(), b"tcsandbox member root key %d" % int(uin),
                        hashlib.sha256).hexdigest()[:32]
        return sid, skey

    def state(self):
        """The whole saved state (every acknowledged write is in it)."""
        assert self.state_path, "a sandbox without --state has no state file"
        with open(self.state_path, encoding="utf-8") as f:
            return json.load(f)

    def world(self, uin=None):
        """The saved state of one account: the hub when uin is None."""
        s = self.state()
        if uin is None or int(uin) == s["owner_uin"]:
            return s
        return s.get("members", {}).get(str(int(uin)))

    def org(self):
        """The Organization's saved state, or None."""
        return self.state().get("org")

    def member_uins(self):
        """{name: uin} of every member, from the saved state."""
        org = self.org() or {}
        return {m["Name"]: m["MemberUin"] for m in org.get("members", {}).values()}

    def client(self, secret_id=None, secret_key=None, token=None):
        return tc3client.Client(self.url, secret_id or self.secret_id,
                                secret_key or self.secret_key, token)

    def env(self):
        """Environment variables for running tcrun against this sandbox."""
        return dict(os.environ, TENCENTCLOUD_SECRET_ID=self.secret_id,
                    TENCENTCLOUD_SECRET_KEY=self.secret_key)


def wait_for(cond, timeout=10.0, interval=0.02):
    """Poll cond() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)
