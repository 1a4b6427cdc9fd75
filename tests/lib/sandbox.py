"""Start tests/sandbox/tcsandbox for a test, and stop it afterwards.

    sys.path.insert(0, os.path.join(SRCDIR, "tests", "lib"))
    from sandbox import Sandbox
    with Sandbox("--async-delay-ms", "100") as sb:
        sb.url, sb.port, sb.secret_id, sb.secret_key, sb.owner_uin, sb.state_path
        sb.call("cam", "ListUsers")        # signed with the root key
        sb.restart()                        # SIGTERM, then start again on the same port
                                            # (another if it was taken: sb.url/port follow)
        sb.kill()                           # SIGKILL; sb.start() brings it back
    # stopped, temp dir removed

With --fault-rate or --reset-rate among the flags and no --seed, it adds
--seed: $TCSANDBOX_SEED when set, else a random one; sb.seed holds it, and
tests print it, so a failing fault test can be replayed with
TCSANDBOX_SEED=N.

Pass sb.url when calling (not a copy taken before a restart): a restart
rebinds the previous port, but when something else took it meanwhile
(EADDRINUSE) the sandbox comes back on a free port and sb.url and sb.port
change.

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

Setting what the public API cannot produce (the control channel, POST
/tcsandbox/control signed with the hub's root key; `when` is unix seconds):

    sb.set_last_login(uin, when, ip=None)   # GetUser RecentlyLoginTime/IP; when=0 clears
    sb.set_key_last_used(secret_id, when)   # GetSecurityLastUsed (one-day lag)
    sb.set_created("user", uin, when)       # ListUsers CreateTime
    sb.set_created("key", secret_id, when)  # ListAccessKeys CreateTime
    sb.set_mfa(uin, phone=1, action={"Stoken": 1})   # DescribeSafeAuthFlagColl
    sb.add_audit_event(event_name="AttachUserPolicy", uin=sub_uin,
                       error_code="AuthFailure.UnauthorizedOperation",
                       when=time.time() - 3 * 86400, resources=[("cam:user", "bob")])
    sb.advance_clock(3600)                   # the sandbox's clock runs 1 h ahead
    sb.set_clock(when)                       # ... forward to `when` (not before now)
    sb.set_clock_china(hour=12, day=15)      # ... forward to the next 15th, 12:00
                                             # China time; returns that time
    sb.now()                                 # the sandbox's time (unix seconds)
    sb.set_bill_not_ready("2026-05", True)   # Billing answers Ready 0 for May
                                             # (False: ready again; account=UIN)
    sb.control("SetCreated", {...})          # the raw operation (tcsb/control.py)

The sandbox's clock is the real one plus every advance so far (kept in the
state, so it survives a restart).  It is the time of conditions on
qcs:current_time, token expiry, asynchronous transitions, --policy-delay-ms
and CloudAudit event times; signatures still use the real time.

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
from datetime import datetime, timedelta, timezone

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
CST = timezone(timedelta(hours=8))  # China Standard Time: bills, caps, "days"


def china_time_after(t, hour=12, day=None, margin=60):
    """The first hour:00 China time at least `margin` seconds after unix time
    t, on day `day` (1-28) of a month when given."""
    assert day is None or 1 <= day <= 28, "every month has days 1-28"
    d = datetime.fromtimestamp(t + margin, CST).replace(hour=hour, minute=0, second=0,
                                                        microsecond=0)
    if d.timestamp() < t + margin:
        d += timedelta(days=1)
    while day is not None and d.day != day:
        d += timedelta(days=1)
    return d.timestamp()


class PortTaken(RuntimeError):
    """tcsandbox could not bind its port (EADDRINUSE)."""


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
        self.clock_offset = 0

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def start(self):
        """Start (again) on the previous port, or a free one the first time.
        When the previous port was taken meanwhile, start on a free one:
        sb.url and sb.port change (clients made by sb.client() before keep
        the old url)."""
        assert self.proc is None, "already running"
        try:
            return self._start()
        except PortTaken as e:
            if not self.port:
                raise
            sys.stderr.write("sandbox.py: %s; starting on a free port instead\n" % e)
            self.port = 0
            return self._start()

    def _start(self):
        argv = [sys.executable, TCSANDBOX, "--port", str(self.port)] + self.flags
        if self.state_path:
            argv += ["--state", self.state_path]
        env = dict(os.environ, TENCENTCLOUD_SECRET_ID=self.secret_id,
                   TENCENTCLOUD_SECRET_KEY=self.secret_key)
        log = open(self.log_path, "ab")
        log_from = log.tell()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, env=env)
        log.close()
        line = self._read_line(self.start_timeout)
        m = LISTEN_RE.match(line)
        if not m:
            self.kill()
            with open(self.log_path, "rb") as f:
                f.seek(log_from)
                said = f.read().decode(errors="replace")
            if not line and "tcsandbox: cannot listen on" in said and "in use" in said:
                raise PortTaken(said.strip().splitlines()[-1])
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

    def control(self, op, body=None, secret_id=None, secret_key=None):
        """One control-channel operation (tests/sandbox/tcsb/control.py),
        signed with the hub's root key (or the given key, to test refusals);
        returns the answer's fields or raises tc3client.ApiError."""
        from urllib.parse import urlsplit
        import http.client
        headers, data = tc3client.request("tcsandbox", op, body or {},
                                          secret_id or self.secret_id,
                                          secret_key or self.secret_key, version="control",
                                          host="tcsandbox.control")
        u = urlsplit(self.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("POST", "/tcsandbox/control", body=data, headers=headers)
            raw = conn.getresponse().read()
        finally:
            conn.close()
        return tc3client._parse(raw)

    def set_last_login(self, uin, when, ip=None):
        """A sub-user's last console login (GetUser RecentlyLoginTime and
        RecentlyLoginIP); when=0 makes it "never"."""
        return self.control("SetLastLogin", {"Uin": int(uin), "Time": when, "Ip": ip or ""})

    def set_key_last_used(self, secret_id, when):
        """A permanent key was last used at `when` (earlier uses forgotten);
        GetSecurityLastUsed shows it from the next China-time day on."""
        return self.control("SetKeyLastUsed", {"SecretId": secret_id, "Time": when})

    def set_created(self, kind, ident, when):
        """The creation time of a user (kind "user", ident = UIN) or a key
        (kind "key", ident = SecretId)."""
        ident = int(ident) if kind == "user" else ident
        return self.control("SetCreated", {"Kind": kind, "Id": ident, "Time": when})

    MFA_ARGS = {"phone": "Phone", "token": "Token", "stoken": "Stoken", "wechat": "Wechat",
                "custom": "Custom", "mail": "Mail", "u2f_token": "U2FToken",
                "passkey": "Passkey"}

    def set_mfa(self, uin, action=None, **flags):
        """A sub-user's console-login MFA (DescribeSafeAuthFlagColl LoginFlag):
        keyword flags phone, token, stoken, wechat, custom, mail, u2f_token,
        passkey (0/1, the rest 0).  action={"Phone": 1, ...} also sets
        ActionFlag (sensitive-operation protection) with the SDK's names."""
        bad = set(flags) - set(self.MFA_ARGS)
        if bad:
            raise TypeError("set_mfa: unknown flags %s" % sorted(bad))
        body = {"Uin": int(uin),
                "LoginFlag": {self.MFA_ARGS[k]: int(v) for k, v in flags.items()}}
        if action is not None:
            body["ActionFlag"] = {k: int(v) for k, v in action.items()}
        return self.control("SetMfa", body)

    def add_audit_event(self, account=None, event_name="", uin=None, username=None,
                        error_code="", when=None, write=True, resources=(), service="cam",
                        secret_id="", region=None, ip=None, sensitive=None, tags=None,
                        error_message=""):
        """A CloudAudit event in `account` (default the hub) made by `uin`
        (default the account's root) at `when` (default now).  error_code ""
        means success.  resources: [(type, name), ...].  Returns its EventId."""
        body = {"EventName": event_name, "Service": service, "ErrorCode": error_code or "",
                "ErrorMessage": error_message, "Write": bool(write), "SecretId": secret_id,
                "Resources": [list(r) for r in resources]}
        for k, v in (("Account", account), ("Uin", uin), ("Username", username),
                     ("Time", when), ("Region", region), ("Ip", ip),
                     ("Sensitive", sensitive), ("Tags", tags)):
            if v is not None:
                body[k] = int(v) if k in ("Account", "Uin") else v
        return self.control("AddAuditEvent", body)["EventId"]

    def advance_clock(self, seconds):
        """Move the sandbox's clock `seconds` (>= 0) forward; returns the
        total offset from the real clock."""
        self.clock_offset = self.control("AdvanceClock", {"Seconds": seconds})["Offset"]
        return self.clock_offset

    def set_clock(self, when):
        """Move the sandbox's clock forward to unix time `when` (not before
        the sandbox's now: the clock only moves forward); returns the total
        offset from the real clock.  It runs on from there."""
        self.clock_offset = self.control("SetClock", {"Time": when})["Offset"]
        return self.clock_offset

    def set_clock_china(self, hour=12, day=None):
        """Move the sandbox's clock forward to the next hour:00 China time (on
        day `day` (1-28) of a month when given), at least a minute ahead, so
        that a test starts far from a China-time day's or month's boundary;
        returns that time (unix seconds)."""
        when = china_time_after(self.now(), hour, day)
        self.set_clock(when)
        return when

    def set_bill_not_ready(self, month, not_ready=True, account=None):
        """Billing of `month` ("YYYY-MM") is not ready (True) or ready again
        (False): the summaries answer Ready 0, DescribeBillResourceSummary
        FailedOperation.SummaryDataNotReady."""
        body = {"Month": month, "NotReady": bool(not_ready)}
        if account is not None:
            body["Account"] = int(account)
        return self.control("SetBillNotReady", body)

    def now(self):
        """The sandbox's time: the real time plus the offset the advances
        made (read from the saved state when there is one)."""
        if self.state_path and os.path.exists(self.state_path):
            self.clock_offset = self.state().get("clock_offset", 0)
        return time.time() + self.clock_offset

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
