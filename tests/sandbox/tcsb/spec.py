"""Request validation and response self-checks against sdkspec.json.

sdkspec.json is generated from the official Node SDK's models (sdkmodels.py)
and holds, for every served action, the request and response structures.
  - A request field the SDK does not define   -> UnknownParameter.
  - A required field missing (no "?" in SDK)  -> MissingParameter.
  - A value of the wrong JSON type            -> InvalidParameter.
Integer fields accept JSON integers and quoted integers ("100000000001"),
which are converted to int.  Handlers read parameters through Params, which
refuses any name outside the request structure, so a handler cannot use a
field the SDK lacks; check_response does the same for answers.
"""
import json
import os
import re

from .errors import ApiError

SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdkspec.json")
INT_RE = re.compile(r"-?\d+$")

_spec = None


def spec():
    global _spec
    if _spec is None:
        with open(SPEC_PATH, encoding="utf-8") as f:
            _spec = json.load(f)
    return _spec


def types_of(service):
    return spec()[service]["types"]


def _check_value(types, t, v, path):
    if t.startswith("[]"):
        if not isinstance(v, list):
            raise ApiError("InvalidParameter",
                           "The parameter `%s` should be an array" % path)
        return [_check_value(types, t[2:], x, "%s.%d" % (path, i))
                for i, x in enumerate(v) if x is not None]
    if t == "string":
        if not isinstance(v, str):
            raise ApiError("InvalidParameter",
                           "The parameter `%s` should be a string" % path)
        return v
    if t == "number":
        if isinstance(v, bool):
            pass
        elif isinstance(v, int):
            return v
        elif isinstance(v, float):
            return int(v) if v.is_integer() else v
        elif isinstance(v, str) and INT_RE.match(v.strip()):
            return int(v.strip())
        raise ApiError("InvalidParameter",
                       "The parameter `%s` should be a number" % path)
    if t == "boolean":
        if isinstance(v, bool):
            return v
        raise ApiError("InvalidParameter",
                       "The parameter `%s` should be a boolean" % path)
    if t in types:
        if not isinstance(v, dict):
            raise ApiError("InvalidParameter",
                           "The parameter `%s` should be an object" % path)
        return _check_struct(types, t, v, path + ".")
    return v  # "any" and friends


def _check_struct(types, name, obj, prefix):
    fields = types[name]
    out = {}
    for k, v in obj.items():
        if k not in fields:
            raise ApiError("UnknownParameter",
                           "The parameter `%s%s` is not recognized" % (prefix, k))
        if v is None:
            continue
        out[k] = _check_value(types, fields[k][0], v, prefix + k)
    for k, (_t, required) in fields.items():
        if required and k not in out:
            raise ApiError("MissingParameter",
                           "The request is missing a required parameter `%s%s`"
                           % (prefix, k))
    return out


def validate(service, action, body):
    types = types_of(service)
    if not isinstance(body, dict):
        raise ApiError("InvalidParameter", "the request body must be a JSON object")
    return Params(types, action + "Request",
                  _check_struct(types, action + "Request", body, ""))


class Params:
    """Read-only view of validated parameters; names must exist in the SDK."""

    def __init__(self, types, struct, data):
        self._types, self._struct, self.data = types, struct, data

    def _field(self, name):
        if name not in self._types[self._struct]:
            raise AssertionError("%s has no field %s in the SDK" % (self._struct, name))

    def get(self, name, default=None):
        self._field(name)
        return self.data.get(name, default)

    def __getitem__(self, name):
        self._field(name)
        return self.data[name]

    def __contains__(self, name):
        self._field(name)
        return name in self.data


def check_response(service, action, resp):
    """Return a list of problems: fields the SDK's Response lacks, or of the
    wrong JSON type.  Empty when the answer is within the contract."""
    types = types_of(service)
    problems = []

    def walk(name, obj, path):
        fields = types.get(name)
        if fields is None:
            return
        for k, v in obj.items():
            if k not in fields:
                problems.append("%s%s: not in %s" % (path, k, name))
            elif v is not None:
                value(fields[k][0], v, path + k)

    def value(t, v, path):
        if t.startswith("[]"):
            if not isinstance(v, list):
                problems.append("%s: expected array" % path)
                return
            for i, x in enumerate(v):
                value(t[2:], x, "%s.%d" % (path, i))
        elif t == "string" and not isinstance(v, str):
            problems.append("%s: expected string, got %r" % (path, v))
        elif t == "number" and (isinstance(v, bool) or not isinstance(v, (int, float))):
            problems.append("%s: expected number, got %r" % (path, v))
        elif t == "boolean" and not isinstance(v, bool):
            problems.append("%s: expected boolean, got %r" % (path, v))
        elif t in types:
            if isinstance(v, dict):
                walk(t, v, path + ".")
            else:
                problems.append("%s: expected object" % path)

    walk(action + "Response", resp, "")
    return problems
