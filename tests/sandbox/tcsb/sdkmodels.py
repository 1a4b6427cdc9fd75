"""Read the official Node SDK's *_models.d.ts and *_client.js files.

The SDK is the contract: every action, request field and response field the
sandbox uses must exist there under the same name.  This module parses the
TypeScript declarations (a tiny, regular subset: `export interface X { F?: T; }`
and `export type X = null;`) into plain data, and writes the slice the
sandbox serves to sdkspec.json so the sandbox itself needs no Node install.

    python3 tests/sandbox/tcsb/sdkmodels.py --write   # regenerate sdkspec.json
                                                      # and actions.json

actions.json is the catalogue of every service the SDK has and every action
its client has ({service: [action, ...]}, all API versions together); CAM's
CreatePolicy/CreatePolicyVersion/UpdatePolicy use it to refuse a policy that
names a service or an action that does not exist (policy.check_actions).

Types are kept as strings: "string", "number", "boolean", "any", an
interface name, or "[]T" for Array<T>.  `number | bigint` becomes "number".
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC_PATH = os.path.join(HERE, "sdkspec.json")
ACTIONS_PATH = os.path.join(HERE, "actions.json")
DEFAULT_SDK = os.path.normpath(os.path.join(
    HERE, "..", "..", "node_modules", "tencentcloud-sdk-nodejs", "tencentcloud",
    "services"))

IFACE_RE = re.compile(r"^export interface (\w+) \{$")
NULLTYPE_RE = re.compile(r"^export type (\w+) = null;$")
FIELD_RE = re.compile(r"^    (\w+)(\??): (.+);$")
CLIENT_ACTION_RE = re.compile(r"^    async (\w+)\(req, cb\) \{$")


def norm_type(t):
    t = t.strip()
    m = re.fullmatch(r"Array<(.+)>", t)
    if m:
        return "[]" + norm_type(m.group(1))
    if t in ("number | bigint", "bigint"):
        return "number"
    return t


def parse_models(path):
    """Return {interface: {field: [type, required]}}; null types map to {}."""
    types = {}
    cur = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            m = IFACE_RE.match(line)
            if m:
                cur = types.setdefault(m.group(1), {})
                continue
            m = NULLTYPE_RE.match(line)
            if m:
                types[m.group(1)] = {}
                continue
            if line == "}":
                cur = None
                continue
            if cur is not None:
                m = FIELD_RE.match(line)
                if m:
                    cur[m.group(1)] = [norm_type(m.group(3)), m.group(2) != "?"]
    return types


def service_dir(sdk, service, version):
    return os.path.join(sdk, service, "v" + version.replace("-", ""))


def load_service(sdk, service, version):
    d = service_dir(sdk, service, version)
    types = parse_models(os.path.join(d, "%s_models.d.ts" % service))
    actions = set()
    with open(os.path.join(d, "%s_client.js" % service), encoding="utf-8") as f:
        for line in f:
            m = CLIENT_ACTION_RE.match(line.rstrip("\n"))
            if m:
                actions.add(m.group(1))
    return types, actions


def reachable(types, roots):
    """Interfaces reachable from roots through field types."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in types:
            continue
        seen.add(name)
        for t, _req in types[name].values():
            base = t.lstrip("[]")
            if base in types:
                todo.append(base)
    return seen


def build_spec(sdk, served):
    """served: {service: (version, [actions])} -> the sdkspec.json content."""
    out = {}
    for service, (version, actions) in sorted(served.items()):
        types, client_actions = load_service(sdk, service, version)
        missing = [a for a in actions if a not in client_actions
                   or a + "Request" not in types or a + "Response" not in types]
        if missing:
            raise SystemExit("%s %s: not in the SDK: %s"
                             % (service, version, ", ".join(missing)))
        roots = [a + s for a in actions for s in ("Request", "Response")]
        keep = reachable(types, roots)
        out[service] = {
            "version": version,
            "actions": sorted(actions),
            "types": {k: types[k] for k in sorted(keep)},
        }
    return out


def build_actions(sdk):
    """{service: sorted action names} for every service directory of the SDK
    (the union over its API versions)."""
    out = {}
    for service in sorted(os.listdir(sdk)):
        d = os.path.join(sdk, service)
        if not os.path.isdir(d):
            continue
        actions = set()
        for version in sorted(os.listdir(d)):
            path = os.path.join(d, version, "%s_client.js" % service)
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as f:
                for line in f:
                    m = CLIENT_ACTION_RE.match(line.rstrip("\n"))
                    if m:
                        actions.add(m.group(1))
        if actions:
            out[service] = sorted(actions)
    return out


def actions_text(catalogue):
    """One service per line, so that a regenerated file diffs by service."""
    lines = ["%s: %s" % (json.dumps(s), json.dumps(a, separators=(",", ":")))
             for s, a in sorted(catalogue.items())]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def main(argv):
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(HERE))
    from tcsb import registry  # noqa: E402  (imports every service module)
    sdk = os.environ.get("TCSB_SDK_DIR", DEFAULT_SDK)
    spec = build_spec(sdk, registry.served())
    text = json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if "--write" in argv:
        with open(SPEC_PATH, "w", encoding="utf-8") as f:
            f.write(text)
        print("wrote %s" % SPEC_PATH)
        with open(ACTIONS_PATH, "w", encoding="utf-8") as f:
            f.write(actions_text(build_actions(sdk)))
        print("wrote %s" % ACTIONS_PATH)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv[1:])
