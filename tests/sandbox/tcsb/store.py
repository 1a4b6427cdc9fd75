"""All sandbox state, one lock around it, and its persistence.

State is one JSON-able dict (see fresh()).  Its top level is the management
(hub) account's world, exactly as when the sandbox had one account; member
accounts of the Organization are worlds of the same shape under
data["members"][str(uin)], and the Organization itself is data["org"] (see
organization.py).  world(uin) finds an account's world.  With --state FILE it is saved
atomically (write FILE.tmp, fsync, rename) by a saver thread; a write call
waits until a save that includes its change has reached the disk before it is
answered (group commit), so kill -9 loses nothing that was acknowledged.
CloudAudit events are appended, one JSON line each, to FILE.audit.jsonl as
they happen (kept out of the snapshot so saves stay small).
"""
import json
import os
import threading

SCHEMA = 1


HUB_UIN = 100000000001
MEMBER_STEP = 10000000  # the k-th member account is HUB_UIN + k * MEMBER_STEP


def account_index(owner_uin):
    """0 for the hub, k for the k-th member (the UIN scheme above)."""
    return max(0, (owner_uin - HUB_UIN) // MEMBER_STEP)


def fresh(owner_uin):
    # Id sequences are seeded from the account so that sub-user UINs, Uids,
    # GroupIds, PolicyIds and RoleIds of different accounts never collide;
    # the hub (k = 0) keeps the seeds it always had.
    k = account_index(owner_uin)
    return {
        "schema": SCHEMA,
        "owner_uin": owner_uin,
        "seq": {"uin": owner_uin + 100000, "uid": 10000001 + k * 100000,
                "group": 100000 + k * 100000, "policy": 250000000 + k * 1000000,
                "version": 0, "role": 4611686018427387904 + k * 1000000000},
        "users": {},        # str(uin) -> user
        "groups": {},       # str(group id) -> group (members, policies)
        "policies": {},     # str(policy id) -> custom policy (presets in cam_policies)
        "keys": {},         # SecretId -> permanent access key
        "tmpkeys": {},      # TmpSecretId -> STS credentials
        "roles": {},        # RoleId -> role
        "envs": {},         # EnvId -> TCB environment
        "env_deletes": [],  # unix times of counted DestroyEnv calls
        "instances": {},    # InstanceId -> Lighthouse instance
        "client_tokens": {},  # Lighthouse ClientToken -> [InstanceId]
        "invocations": {},  # InvocationId -> TAT invocation
        "tasks": {},        # InvocationTaskId -> TAT task
        "tags": {},         # six-segment resource -> {key: value}
        "bills": {},        # ResourceId -> billing record (lifetime, price)
    }


class Store:
    def __init__(self, path, owner_uin):
        self.lock = threading.RLock()
        self.path = path
        self.data = None
        self.audit = []
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.data = json.load(f)
        if self.data is None:
            self.data = fresh(owner_uin)
        self._audit_fd = None
        if path:
            apath = path + ".audit.jsonl"
            if os.path.exists(apath):
                with open(apath, encoding="utf-8") as f:
                    for line in f:
                        try:
                            self.audit.append(json.loads(line))
                        except ValueError:
                            pass  # a line cut short by kill -9
            self._audit_fd = os.open(apath, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._cv = threading.Condition()
        self._gen = self._saved = 0
        self._stop = False
        self._error = None
        self._saver = None
        if path:
            self._save_now()
            self._saver = threading.Thread(target=self._save_loop, daemon=True)
            self._saver.start()

    # -- called with self.lock held ------------------------------------
    def world(self, uin):
        """The world (state dict) of account uin, or None."""
        if uin is None or int(uin) == self.data["owner_uin"]:
            return self.data
        return self.data.get("members", {}).get(str(uin))

    def clock_offset(self):
        """Seconds the sandbox's clock runs ahead of the real one
        (control channel AdvanceClock; kept in the state)."""
        return self.data.get("clock_offset", 0)

    def worlds(self):
        """Every account's world, the hub first."""
        return [self.data] + list(self.data.get("members", {}).values())

    def mark_dirty(self):
        with self._cv:
            self._gen += 1
            self._cv.notify_all()
            return self._gen

    def add_event(self, event):
        self.audit.append(event)
        if self._audit_fd is not None:
            os.write(self._audit_fd, (json.dumps(event, separators=(",", ":"))
                                      + "\n").encode())

    # -- called without self.lock ---------------------------------------
    def wait_saved(self, gen):
        if not self.path:
            return
        with self._cv:
            while self._saved < gen and self._error is None:
                self._cv.wait()
            if self._error:
                raise RuntimeError("cannot save state: %s" % self._error)

    def _save_now(self):
        with self.lock:
            text = json.dumps(self.data, separators=(",", ":"))
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def _save_loop(self):
        while True:
            with self._cv:
                while not self._stop and self._gen == self._saved:
                    self._cv.wait()
                if self._stop and self._gen == self._saved:
                    return
                target = self._gen
            try:
                self._save_now()
            except OSError as e:
                with self._cv:
                    self._error = str(e)
                    self._cv.notify_all()
                return
            with self._cv:
                self._saved = target
                self._cv.notify_all()

    def close(self):
        if self._saver:
            with self._cv:
                self._stop = True
                self._cv.notify_all()
            self._saver.join()
            self._save_now()
        if self._audit_fd is not None:
            os.close(self._audit_fd)
            self._audit_fd = None
