"""The table of served actions.

Each service module declares its handlers with @action.  A handler takes a
Ctx (see ctx.py) and returns the Response fields (without RequestId).

How a call is authorized (see README "Authorization"):
  kind="op"    operation-level: the server checks the action against "*".
  kind="res"   resource-level: the handler calls ctx.authorize(resource)
               for every target before it changes anything.
  kind="free"  no permission needed (GetUserAppId, GetCallerIdentity).
  kind="list"  a list action: the caller needs some allow for the action; the
               handler keeps only the items ctx.allowed(resource) accepts.
write: whether the call changes state (CloudAudit ActionType Write, and a
state save before the answer).  Default: everything but Describe/List/Get/
LookUp.
"""
import importlib

VERSIONS = {
    "cam": "2019-01-16",
    "sts": "2018-08-13",
    "tcb": "2018-06-08",
    "lighthouse": "2020-03-24",
    "tat": "2020-10-28",
    "tag": "2018-08-13",
    "billing": "2018-07-09",
    "cloudaudit": "2019-03-19",
    "organization": "2021-03-31",
}

# Services whose real endpoints need X-TC-Region.
REGION_REQUIRED = {"sts", "lighthouse", "tat", "cloudaudit"}
DEFAULT_REGION = {"tcb": "ap-shanghai"}

REGIONS = [
    "ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu",
    "ap-chongqing", "ap-hongkong", "ap-singapore", "ap-jakarta", "ap-seoul",
    "ap-tokyo", "ap-mumbai", "ap-bangkok", "na-siliconvalley", "na-ashburn",
    "eu-frankfurt", "sa-saopaulo",
]

MODULES = ["cam_users", "cam_groups", "cam_policies", "cam_attach", "cam_keys", "cam_roles",
           "sts", "tcb", "lighthouse", "tat", "tag", "billing", "cloudaudit", "organization",
           "org_scp"]

READ_PREFIXES = ("Describe", "List", "Get", "LookUp")

ACTIONS = {}


class Action:
    def __init__(self, service, name, fn, kind, write):
        self.service, self.name, self.fn = service, name, fn
        self.kind, self.write = kind, write

    @property
    def cam_name(self):
        return "%s:%s" % (self.service, self.name)


def action(service, kind="op", write=None):
    def deco(fn):
        name = fn.__name__
        w = write if write is not None else not name.startswith(READ_PREFIXES)
        ACTIONS[(service, name)] = Action(service, name, fn, kind, w)
        return fn
    return deco


_loaded = False


def load():
    global _loaded
    if not _loaded:
        for m in MODULES:
            importlib.import_module("tcsb." + m)
        _loaded = True
    return ACTIONS


def served():
    """{service: (version, [action names])} for sdkmodels.py."""
    out = {}
    for (svc, name) in load():
        out.setdefault(svc, (VERSIONS[svc], []))[1].append(name)
    return out
