"""Preset (QCS) policies and policy-document lookup.

Only the preset names the fact sheet marks as confirmed are served.  Their
documents are the sandbox's reading of the names (e.g. QcloudTCBFullAccess
allows tcb:*); the real documents are longer.
"""
import json

from . import policy

RO = ["*:Describe*", "*:List*", "*:Get*", "*:Head*", "*:Check*", "*:Query*", "*:LookUp*"]

# id, name, service type, description, actions
_PRESETS = [
    (1, "AdministratorAccess", "", "Full read-write access to all resources", ["*"]),
    (2, "ReadOnlyAccess", "", "Read-only access to all resources", RO),
    (3, "QcloudCamFullAccess", "cam", "Full read-write access to CAM", ["cam:*"]),
    (4, "QcloudCamReadOnlyAccess", "cam", "Read-only access to CAM",
     ["cam:List*", "cam:Get*", "cam:Describe*"]),
    (5, "QcloudTCBFullAccess", "tcb", "Full read-write access to CloudBase", ["tcb:*"]),
    (6, "QcloudTCBRFullAccess", "tcbr", "Full read-write access to CloudBase Run", ["tcbr:*"]),
    (7, "QcloudAccessForTCBRole", "tcb", "Service role policy for CloudBase",
     ["tcb:*", "scf:*", "cos:*"]),
    (8, "QcloudLighthouseFullAccess", "lighthouse", "Full read-write access to Lighthouse",
     ["lighthouse:*"]),
    (9, "QcloudLighthouseReadOnlyAccess", "lighthouse", "Read-only access to Lighthouse",
     ["lighthouse:Describe*"]),
    (10, "QcloudTATFullAccess", "tat", "Full read-write access to TAT", ["tat:*"]),
    (11, "QcloudCVMFullAccess", "cvm", "Full read-write access to CVM", ["cvm:*"]),
    (12, "QcloudCVMReadOnlyAccess", "cvm", "Read-only access to CVM", ["cvm:Describe*"]),
    (13, "QcloudCOSFullAccess", "cos", "Full read-write access to COS", ["cos:*"]),
    (14, "QcloudCOSReadOnlyAccess", "cos", "Read-only access to COS",
     ["cos:List*", "cos:Get*", "cos:Head*"]),
]

PRESETS = {}
for _id, _name, _svc, _desc, _actions in _PRESETS:
    _doc = json.dumps({"version": "2.0", "statement": [
        {"effect": "allow", "action": _actions, "resource": "*"}]})
    PRESETS[str(_id)] = {"PolicyId": _id, "PolicyName": _name, "ServiceType": _svc,
                         "Description": _desc, "Document": _doc,
                         "statements": policy.parse_document(_doc)}

PRESET_TIME = "2019-01-01 00:00:00"


def get(data, pid):
    """A custom policy dict, a preset dict, or None."""
    pid = str(pid)
    return data["policies"].get(pid) or PRESETS.get(pid)


def is_preset(pid):
    return str(pid) in PRESETS


def document(data, pid):
    pid = str(pid)
    if pid in PRESETS:
        return PRESETS[pid]["Document"]
    p = data["policies"].get(pid)
    if not p:
        return None
    return p["versions"][str(p["default"])]["Document"]


_parsed = {}


def statements(data, pid):
    pid = str(pid)
    if pid in PRESETS:
        return PRESETS[pid]["statements"]
    return statements_of(document(data, pid))


def statements_of(doc):
    """The parsed statements of a document text (cached); [] for None."""
    if doc is None:
        return []
    st = _parsed.get(doc)
    if st is None:
        st = _parsed[doc] = policy.parse_document(doc)
    return st
