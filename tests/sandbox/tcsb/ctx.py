"""Who is calling (Caller) and what a handler sees (Ctx).

Callers: the root account's keys (everything allowed), a sub-user's
permanent keys (its own and its groups' policies), and STS temporary keys
(a role session: the role's policies, narrowed by a session policy; a
federation token: its policy, narrowed by the issuing sub-user's policies).

Several accounts: a SecretId (permanent or STS) is looked up in every
account's world; the Ctx then runs against the world that holds it
(ctx.data, ctx.owner), so every handler works unchanged inside a member
account.  ctx.hub is the top-level state (the management account's world,
which also holds the Organization).  Inside a member account, once service
control policies are enabled, every identity (the member's root included)
is also bound by the SCPs of the member and of its department and their
ancestors (org_scp.scp_sets); the management account never is.
"""
from . import policy, presets, propagation, util
from .errors import ApiError


class Caller:
    def __init__(self, kind, uin, name, secret_id, tmp=None, account=None):
        self.kind, self.uin, self.name, self.secret_id = kind, uin, name, secret_id
        self.tmp = tmp or {}
        self.account = account  # owner UIN of the account the key belongs to

    def statement_sets(self, data, view=None):
        """None for root; else a list of statement lists that must all allow.
        view: a propagation.View (--policy-delay-ms), or None for the
        current state."""
        if self.kind == "root":
            return None
        sets = []
        if self.kind == "user" or (self.kind == "federated" and self.tmp.get("sub_uin")):
            sets.append(user_statements(data, self.uin, view))
        if self.kind == "role":
            role = data["roles"].get(self.tmp.get("role_id"))
            pids = list((role or {}).get("policies", {}))
            if view is not None and role is not None:
                pids = view.pids("role", self.tmp.get("role_id"), pids)
            stmts = []
            for pid in pids:
                stmts += _statements(data, pid, view)
            sets.append(stmts)
        if self.tmp.get("policy") is not None:
            sets.append(self.tmp["policy"])
        return sets


def _statements(data, pid, view):
    if view is None or presets.is_preset(pid) or str(pid) not in data["policies"]:
        return presets.statements(data, pid)
    doc = view.document(pid, presets.document(data, pid))
    return presets.statements_of(doc)


def user_statements(data, uin, view=None):
    user = data["users"].get(str(uin))
    if not user:
        return []
    pids = list(user["policies"])
    if view is not None:
        pids = view.pids("user", uin, pids)
    for g in data["groups"].values():
        member = str(uin) in g["members"]
        if view is not None:
            member = view.member(g["GroupId"], uin, member)
        if member:
            gp = list(g["policies"])
            if view is not None:
                gp = view.pids("group", g["GroupId"], gp)
            pids += gp
    out = []
    for pid in dict.fromkeys(pids):
        out += _statements(data, pid, view)
    return out


def resolve(store, secret_id, token, now):
    """Return (Caller, secret key) for a SecretId, found in any account's
    world, or raise the real error."""
    for data in store.worlds():
        key = data["keys"].get(secret_id)
        if key is not None:
            break
        tmp = data["tmpkeys"].get(secret_id)
        if tmp is not None:
            break
    else:
        raise ApiError("AuthFailure.SecretIdNotFound",
                       "The SecretId is not found, please ensure that your SecretId is correct.")
    owner = data["owner_uin"]
    if key is not None:
        if key["Status"] != "Active":
            raise ApiError("AuthFailure.SecretIdNotFound",
                           "The SecretId is disabled: %s" % secret_id)
        uin = key["uin"]
        if uin == owner:
            return Caller("root", uin, "root", secret_id, account=owner), key["secret"]
        user = data["users"][str(uin)]
        return Caller("user", uin, user["Name"], secret_id, account=owner), key["secret"]
    if not token or token != tmp["token"]:
        raise ApiError("AuthFailure.TokenFailure", "the X-TC-Token is missing or does not match")
    if now >= tmp["expires"]:
        raise ApiError("AuthFailure.TokenFailure", "the temporary credentials have expired")
    return Caller(tmp["kind"], tmp["uin"], tmp["name"], secret_id, tmp, owner), tmp["secret"]


class Ctx:
    def __init__(self, store, cfg, act, params, caller, region, now, request_id, ip):
        self.store, self.cfg, self.act, self.p = store, cfg, act, params
        self.hub = store.data
        self.data = store.world(caller.account)
        self.caller, self.region, self.now = caller, region, now
        self.request_id, self.ip = request_id, ip
        self.owner = self.data["owner_uin"]
        self.authorized = False
        self.resources = []  # (type, name) for CloudAudit
        self.audit_also = []  # other accounts that record this call (cross-account STS)
        self._scp = None

    @property
    def appid(self):
        return self.data.get("appid", self.cfg.appid)

    @property
    def is_hub(self):
        return self.data is self.hub

    def scp(self):
        """The SCP statement sets binding this account ([] when none)."""
        if self._scp is None:
            from . import org_scp
            self._scp = org_scp.scp_sets(self.hub, self.owner)
        return self._scp

    def _sets(self):
        """Statement sets that must all allow, or None (allow everything)."""
        sets = self.caller.statement_sets(
            self.data, propagation.view(self.data, self.now, self.cfg))
        scp = self.scp()
        if not scp:
            return sets
        return (sets or []) + scp

    def res(self, service, region, path):
        return "qcs::%s:%s:uin/%d:%s" % (service, region or "", self.owner, path)

    def _env(self, resource):
        tags = None if resource in (None, "*") else self.data["tags"].get(resource, {})
        req_tags = None
        raw = self.p.data.get("Tags")
        if isinstance(raw, list):
            req_tags = {t.get("Key", t.get("TagKey")): t.get("Value", t.get("TagValue"))
                        for t in raw if isinstance(t, dict)}
        # owner_uin: an empty account segment is the policy owner's;
        # uin: the caller, for ${uin}.
        return {"resource_tags": tags, "request_tags": req_tags,
                "current_time": util.iso(self.now), "ip": self.ip,
                "owner_uin": self.owner, "uin": self.caller.uin}

    def allowed(self, resource, action=None):
        sets = self._sets()
        if sets is None:
            return True
        return policy.evaluate(sets, action or self.act.cam_name, resource, self._env(resource))

    def authorize(self, resource, action=None):
        """Raise AuthFailure.UnauthorizedOperation unless the caller may act on resource."""
        self.authorized = True
        if not self.allowed(resource, action):
            raise ApiError("AuthFailure.UnauthorizedOperation",
                           "you are not authorized to perform operation (%s)\n"
                           "resource (%s) has no permission"
                           % (action or self.act.cam_name, resource))

    def authorize_list(self):
        """A list action: the caller needs some allow for it."""
        self.authorized = True
        sets = self._sets()
        if sets is not None and not policy.evaluate(sets, self.act.cam_name, None, self._env(None)):
            raise ApiError("AuthFailure.UnauthorizedOperation",
                           "you are not authorized to perform operation (%s)\n"
                           "resource (*) has no permission" % self.act.cam_name)

    def touch(self, rtype, name):
        self.resources.append((rtype, name))
