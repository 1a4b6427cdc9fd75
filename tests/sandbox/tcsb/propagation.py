"""--policy-delay-ms: CAM policy changes reach authorization only after a delay.

Real CAM caches what a principal may do for up to about a minute.  With a
delay D (seconds of the sandbox's clock), a change made at time t is seen by
authorization from t + D on, while every read (GetPolicy, GetPolicyVersion,
ListPolicyVersions, ListAttached*, ListGroupsForUser, ...) shows it at once.

Model: an undo log.  Each change of what a principal's policies allow appends
an entry to its account's world["authz_log"]:

  {"t", "op": "attach"|"detach", "kind": "user"|"group"|"role", "id", "pid"}
        a policy attached to / detached from a user, group or role
  {"t", "op": "join"|"leave", "gid", "uin"}
        a user added to / removed from a group
  {"t", "op": "doc", "pid", "old"}
        the effective document of a custom policy changed (a new default
        version: CreatePolicyVersion SetAsDefault, SetDefaultPolicyVersion,
        UpdatePolicy of the document); "old" is the document it replaced

Authorization at time `now` uses the state as of now - D: the current state
with every entry newer than now - D undone, newest first (View).  Entries
older than now - D are dropped when the next one is recorded.  With D = 0
nothing is recorded and nothing changes.  Deletions (DeletePolicy,
DeleteUser, DeleteGroup, DeleteRole) and trust-policy changes take effect at
once (a guess; see the README).  DeletePolicyVersion cannot touch the default
version, so it never changes the effective document.
"""


def delay(cfg):
    return float(getattr(cfg, "policy_delay", 0) or 0)


def record(ctx, entry):
    """Log one change made by the call in ctx (nothing when the delay is 0)."""
    d = delay(ctx.cfg)
    if d <= 0:
        return
    log = ctx.data.setdefault("authz_log", [])
    cutoff = ctx.now - d
    log[:] = [e for e in log if e["t"] > cutoff]
    log.append(dict(entry, t=ctx.now))


def attached(ctx, kind, ident, pid):
    record(ctx, {"op": "attach", "kind": kind, "id": str(ident), "pid": str(pid)})


def detached(ctx, kind, ident, pid):
    record(ctx, {"op": "detach", "kind": kind, "id": str(ident), "pid": str(pid)})


def joined(ctx, gid, uin):
    record(ctx, {"op": "join", "gid": str(gid), "uin": str(uin)})


def left(ctx, gid, uin):
    record(ctx, {"op": "leave", "gid": str(gid), "uin": str(uin)})


def doc_changed(ctx, pid, old_doc):
    record(ctx, {"op": "doc", "pid": str(pid), "old": old_doc})


class View:
    """What authorization sees: the state as of `as_of`."""

    def __init__(self, entries):
        self.holders = {}   # (kind, id) -> {pid: undo} where undo is +1 add / -1 remove
        self.members = {}   # (gid, uin) -> True (member then) / False (not)
        self.docs = {}      # pid -> document then
        for e in reversed(entries):  # newest first: the oldest undo is applied last
            op = e["op"]
            if op in ("attach", "detach"):
                self.holders.setdefault((e["kind"], e["id"]), {})[e["pid"]] = op == "detach"
            elif op in ("join", "leave"):
                self.members[(e["gid"], e["uin"])] = op == "leave"
            elif op == "doc":
                self.docs[e["pid"]] = e["old"]

    def pids(self, kind, ident, current):
        """The policy ids attached to a holder then (current: its dict now)."""
        out = dict.fromkeys(current)
        for pid, present in self.holders.get((kind, str(ident)), {}).items():
            if present:
                out[pid] = None
            else:
                out.pop(pid, None)
        return list(out)

    def member(self, gid, uin, current):
        return self.members.get((str(gid), str(uin)), current)

    def document(self, pid, current):
        return self.docs.get(str(pid), current)


def view(data, now, cfg):
    """The View for a call at `now`, or None when nothing is pending."""
    d = delay(cfg)
    log = data.get("authz_log")
    if d <= 0 or not log:
        return None
    cutoff = now - d
    pending = [e for e in log if e["t"] > cutoff]
    return View(pending) if pending else None
