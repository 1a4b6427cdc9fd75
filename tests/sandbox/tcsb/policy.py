"""CAM policy language: document checks and evaluation.

evaluate(sets, action, resource, env) decides a call.  `sets` is a list of
statement lists that must *all* allow (a sub-user has one: its own and its
groups' policies; an STS session adds its session policy, so the result is
the intersection).  Within a set: an explicit deny that matches wins,
otherwise a matching allow allows, otherwise deny.

Matching
  action    "service:Action" with "*" anywhere ("tcb:*", "*:Describe*", "*");
            the legacy "name/" prefix is accepted.  Case-sensitive.
  resource  "*" or six segments qcs:project:service:region:account:resource,
            compared segment by segment with "*" as a wildcard.  In a policy
            an empty service means every service, an empty region every
            region, and an empty account the policy owner's account
            (uin/<owner>; CAM "resource description").  Operation-level
            actions are checked against the literal "*", which only the
            resource "*" matches.
  variables ${uin} (the caller) and ${owner_uin} (its root account) are
            replaced in the last resource segment and in condition values
            (CAM "policy variables").  The owner and caller come from
            env["owner_uin"] / env["uin"] or, when a Ctx calls evaluate(),
            from that Ctx.
  condition {operator: {key: value | [values]}}; every operator and every key
            must hold, any listed value may match.  Keys: qcs:resource_tag and
            qcs:request_tag ("key&value"), qcs:current_time (ISO 8601),
            qcs:ip (CIDR), and in role trust policies sts:external_id (the
            ExternalId an AssumeRole call passes); any other key is looked up
            in env["context"] (absent from the sandbox's calls).  Operators:
            string_*, numeric_*, date_*, bool_equal, binary_equal, ip_equal,
            ip_not_equal, null_equal, with the for_any_value: / for_all_value:
            qualifiers and the _if_exist suffix (not on null_equal).  A key with several values
            (resource tags): for_all_value: holds when every value passes
            the operator, for_any_value: when one does; with no qualifier a
            plain operator holds when one value matches and a negated one
            when none does.  _if_exist holds when the key is absent.
"""
import ipaddress
import json
import os
import re
from datetime import datetime, timezone

from .errors import ApiError

STRING_OPS = {
    "string_equal": lambda a, b: a == b,
    "string_not_equal": lambda a, b: a == b,  # negated below
    "string_equal_ignore_case": lambda a, b: a.lower() == b.lower(),
    "string_not_equal_ignore_case": lambda a, b: a.lower() == b.lower(),
    "string_like": lambda a, b: _glob(b).fullmatch(a) is not None,
    "string_not_like": lambda a, b: _glob(b).fullmatch(a) is not None,
}
NEGATED = {"string_not_equal", "string_not_equal_ignore_case",
           "string_not_like", "ip_not_equal", "date_not_equal", "numeric_not_equal"}
DATE_OPS = {
    "date_equal": lambda a, b: a == b,
    "date_not_equal": lambda a, b: a == b,
    "date_less_than": lambda a, b: a < b,
    "date_less_than_equal": lambda a, b: a <= b,
    "date_not_greater_than": lambda a, b: a <= b,
    "date_greater_than": lambda a, b: a > b,
    "date_greater_than_equal": lambda a, b: a >= b,
    "date_not_less_than": lambda a, b: a >= b,
}
NUMERIC_OPS = {
    "numeric_equal": lambda a, b: a == b,
    "numeric_not_equal": lambda a, b: a == b,  # negated
    "numeric_less_than": lambda a, b: a < b,
    "numeric_less_than_equal": lambda a, b: a <= b,
    "numeric_greater_than": lambda a, b: a > b,
    "numeric_greater_than_equal": lambda a, b: a >= b,
}
OPERATORS = (set(STRING_OPS) | set(DATE_OPS) | set(NUMERIC_OPS)
             | {"bool_equal", "binary_equal", "ip_equal", "ip_not_equal", "null_equal"})
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

_globs = {}


def _glob(pattern):
    rx = _globs.get(pattern)
    if rx is None:
        rx = re.compile(".*".join(re.escape(part) for part in pattern.split("*")),
                        re.DOTALL)
        _globs[pattern] = rx
    return rx


def _as_list(v):
    return v if isinstance(v, list) else [v]


def _str(v):
    """A condition value as text (JSON true/false as "true"/"false")."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _number(v):
    s = _str(v).strip()
    return float(s) if _NUMBER.fullmatch(s) else None


def _parse_time(s):
    s = str(s).strip().replace("Z", "+00:00")
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        raise ApiError("InvalidParameter.ConditionError", "bad date %r in condition" % s)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t


def split_op(op):
    qual = None
    if ":" in op:
        qual, op = op.split(":", 1)
        if qual not in ("for_any_value", "for_all_value"):
            raise ApiError("InvalidParameter.ConditionTypeError",
                           "unknown condition qualifier %r" % qual)
    if_exist = op.endswith("_if_exist")
    if if_exist:
        op = op[:-len("_if_exist")]
    if op not in OPERATORS:
        raise ApiError("InvalidParameter.ConditionTypeError",
                       "unknown condition operator %r" % op)
    if op == "null_equal" and if_exist:
        raise ApiError("InvalidParameter.ConditionTypeError",
                       "null_equal takes no _if_exist suffix")
    return qual, op, if_exist


def parse_document(text, allow_principal=False, code_prefix="InvalidParameter"):
    """Check a policy document; return its statements (normalised)."""
    def bad(sub, msg):
        return ApiError("%s.%s" % (code_prefix, sub), msg)
    if len(text) > 6144:
        raise bad("PolicyDocumentLengthOverLimit", "policy document longer than 6144 characters")
    try:
        doc = json.loads(text)
    except ValueError:
        raise bad("PolicyDocumentError", "policy document is not valid JSON")
    if not isinstance(doc, dict):
        raise bad("PolicyDocumentError", "policy document must be a JSON object")
    if str(doc.get("version")) != "2.0":
        raise bad("VersionError", "policy version must be \"2.0\"")
    stmts = doc.get("statement")
    if isinstance(stmts, dict):
        stmts = [stmts]
    if not isinstance(stmts, list) or not stmts:
        raise bad("StatementError", "policy needs a non-empty statement list")
    out = []
    for s in stmts:
        if not isinstance(s, dict):
            raise bad("StatementError", "each statement must be an object")
        effect = s.get("effect")
        if effect not in ("allow", "deny"):
            raise bad("EffectError", "effect must be \"allow\" or \"deny\"")
        actions = [a[5:] if isinstance(a, str) and a.startswith("name/") else a
                   for a in _as_list(s.get("action", []))]
        if not actions or not all(isinstance(a, str) and (a == "*" or ":" in a)
                                  for a in actions):
            raise bad("ActionError", "action must be \"*\" or \"service:Action\" strings")
        if "principal" in s and not allow_principal:
            raise bad("PolicyDocumentError", "principal is not allowed here")
        resources = _as_list(s.get("resource", "*" if allow_principal else []))
        if not resources or not all(isinstance(r, str) and (r == "*" or r.startswith("qcs:"))
                                    for r in resources):
            raise bad("ResourceError", "resource must be \"*\" or six-segment qcs strings")
        cond = s.get("condition") or {}
        if not isinstance(cond, dict):
            raise bad("ConditionError", "condition must be an object")
        for op, body in cond.items():
            split_op(op)
            if not isinstance(body, dict):
                raise bad("ConditionError", "condition %s must map keys to values" % op)
        st = {"effect": effect, "action": actions, "resource": resources, "condition": cond}
        if "principal" in s:
            st["principal"] = s["principal"]
        out.append(st)
    return out


_CATALOGUE = None
ACTIONS_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "actions.json")


# CAM actions that are no API method but that a documented API checks:
# DeleteUser with Force=1 needs cam:DeleteApiKey (the DeleteUser doc).
EXTRA_ACTIONS = {"cam": ["DeleteApiKey"]}


def catalogue():
    """{service: [action, ...]} of the SDK (actions.json, written by
    sdkmodels.py --write), plus EXTRA_ACTIONS."""
    global _CATALOGUE
    if _CATALOGUE is None:
        with open(ACTIONS_PATH, encoding="utf-8") as f:
            cat = json.load(f)
        for svc, names in EXTRA_ACTIONS.items():
            cat[svc] = sorted(set(cat.get(svc, [])) | set(names))
        _CATALOGUE = cat
    return _CATALOGUE


def check_actions(statements, code_prefix="InvalidParameter"):
    """Refuse an action naming a service or an action that does not exist
    (the SDK's catalogue).  A pattern with "*" must match at least one
    existing action; "*" alone always does.  Case-sensitive, like matching."""
    cat = catalogue()
    for st in statements:
        for a in st["action"]:
            if a == "*":
                continue
            svc, _, name = a.partition(":")
            if "*" in svc:
                services = [s for s in cat if _glob(svc).fullmatch(s)]
            else:
                services = [svc] if svc in cat else []
            if not services:
                raise ApiError("%s.ActionServiceNotExist" % code_prefix,
                               "the service of the action %r does not exist" % a)
            rx = _glob(name)
            if not any(rx.fullmatch(x) for s in services for x in cat[s]):
                raise ApiError("%s.ActionNotExist" % code_prefix,
                               "the action %r does not exist" % a)


def match_action(patterns, action):
    return any(p == "*" or _glob(p).fullmatch(action) for p in patterns)


_VAR = re.compile(r"\$\{([^}]*)\}")


def substitute(text, env):
    """Replace ${uin} and ${owner_uin}; other ${...} stay as written."""
    if not isinstance(text, str) or "${" not in text:
        return text
    names = {"uin": env.get("uin"), "owner_uin": env.get("owner_uin")}
    if names["uin"] is None:
        names["uin"] = names["owner_uin"]

    def one(m):
        v = names.get(m.group(1))
        return m.group(0) if v is None else str(v)
    return _VAR.sub(one, text)


def match_resource(pattern, resource, env=None):
    env = env or {}
    if pattern == "*":
        return True
    if resource == "*":
        return False
    ps, rs = pattern.split(":", 5), resource.split(":", 5)
    if len(ps) != 6 or len(rs) != 6:
        return _glob(substitute(pattern, env)).fullmatch(resource) is not None
    for i, (p, r) in enumerate(zip(ps, rs)):
        if i in (2, 3) and p == "":
            continue  # empty service / region in a policy: every one
        if i == 4 and p == "":
            owner = env.get("owner_uin")
            if owner is None or r != "uin/%s" % owner:
                return False  # empty account: the policy owner's account
            continue
        if i == 5:
            p = substitute(p, env)
        if not _glob(p).fullmatch(r):
            return False
    return True


def _context_values(key, env):
    if key in ("qcs:resource_tag", "qcs:request_tag"):
        tags = env.get("resource_tags" if key == "qcs:resource_tag" else "request_tags")
        if tags is None:
            return None
        return ["%s&%s" % kv for kv in tags.items()]
    if key == "qcs:current_time":
        return [env["current_time"]]
    if key == "qcs:ip":
        return [env.get("ip", "127.0.0.1")]
    if key == "sts:external_id":
        v = env.get("external_id")
        return [v] if v else None
    v = (env.get("context") or {}).get(key)
    if v is None:
        return None
    if isinstance(v, dict):
        return ["%s&%s" % (_str(k), _str(x)) for k, x in v.items()]
    return [_str(x) for x in _as_list(v) if x is not None]


def _one(op, ctx_value, want):
    if op in STRING_OPS:
        return STRING_OPS[op](_str(ctx_value), _str(want))
    if op in NUMERIC_OPS:
        a, b = _number(ctx_value), _number(want)
        return a is not None and b is not None and NUMERIC_OPS[op](a, b)
    if op == "bool_equal":
        return _str(ctx_value).lower() == _str(want).lower()
    if op == "binary_equal":
        return _str(ctx_value) == _str(want)
    if op in DATE_OPS:
        try:
            return DATE_OPS[op](_parse_time(ctx_value), _parse_time(want))
        except ApiError:
            return False  # not a date: no match (an authorization never fails on it)
    if op in ("ip_equal", "ip_not_equal"):
        try:
            return ipaddress.ip_address(ctx_value) in ipaddress.ip_network(str(want), strict=False)
        except ValueError:
            return False
    return False


def condition_holds(cond, env):
    for opname, body in cond.items():
        qual, op, if_exist = split_op(opname)
        for key, wanted in body.items():
            wanted = [substitute(w, env) for w in _as_list(wanted)]
            values = _context_values(key, env)
            if op == "null_equal":
                is_null = not values
                if not any(_str(w).lower() == _str(is_null) for w in wanted):
                    return False
                continue
            if not values:
                if if_exist:
                    continue
                return False
            neg = op in NEGATED

            def hit(v):
                return any(_one(op, v, w) for w in wanted)
            if qual == "for_all_value":
                # every context value passes: matches (or, negated, misses) the list
                ok = all((not hit(v)) if neg else hit(v) for v in values)
            elif qual == "for_any_value":
                # some context value passes
                ok = any((not hit(v)) if neg else hit(v) for v in values)
            else:
                # no qualifier: a negated operator holds when no value matches
                ok = (not any(hit(v) for v in values)) if neg else any(hit(v) for v in values)
            if not ok:
                return False
    return True


def _decide(statements, action, resource, env):
    allowed = False
    for s in statements:
        if not match_action(s["action"], action):
            continue
        if resource is not None and not any(match_resource(p, resource, env) for p in s["resource"]):
            continue
        if s["condition"] and (resource is None or not condition_holds(s["condition"], env)):
            if resource is not None or s["effect"] == "deny":
                continue
        if s["effect"] == "deny":
            if resource is None and ("*" not in s["resource"] or s["condition"]):
                continue  # a narrow deny does not stop listing
            return "deny"
        allowed = True
    return "allow" if allowed else "none"


def evaluate(sets, action, resource, env):
    """True when every statement set allows `action` on `resource`.
    resource None asks "could any resource be allowed?" (list actions)."""
    return all(_decide(stmts, action, resource, env) == "allow" for stmts in sets)
