"""Tag: TagResources, UnTagResources, GetResources.

Tags of every resource live in one store keyed by the six-segment resource
string; the services read it (DescribeEnvs Tags, DescribeInstances Tags,
qcs:resource_tag conditions, billing).  Taggable here:
    qcs::tcb:REGION:uin/OWNER:env/ENVID
    qcs::lighthouse:REGION:uin/OWNER:instance/lhins-...
    qcs::cam::uin/OWNER:uin/SUBUIN | policy/ID | roleName/NAME
A resource that does not exist comes back in FailedResources (code
ResourceNotFound); a malformed one too (InvalidParameterValue.
ResourceDescriptionError).  TagResources/UnTagResources are operation-level
(checked against "*", as CAM documents them); GetResources lists only what
the caller may see.
Organization members and departments of the management account are
taggable too, as Terraform's provider tags them through this service:
    qcs::organization:REGION:uin/OWNER:member/MEMBERUIN | node/NODEID
The region segment is ignored (the Organization is global); tags are kept
under the region-less name qcs::organization::uin/OWNER:member/UIN, which
is what GetResources returns and DescribeOrganizationMembers/Nodes read.
"""
import re

from .errors import ApiError
from .registry import action

KEY_RE = re.compile(r"^[\w .:/=+\-@]+$", re.U)
RESERVED = ("qcloud:", "tencent:", "tencentcloud:", "project")


def canonical(res):
    parts = res.split(":", 5)
    if len(parts) == 6 and parts[2] == "organization":
        parts[3] = ""
        return ":".join(parts)
    return res


def exists(ctx, res):
    parts = res.split(":", 5)
    if len(parts) != 6 or parts[0] != "qcs" or parts[4] != "uin/%d" % ctx.owner:
        return None
    svc, region, path = parts[2], parts[3], parts[5]
    d = ctx.data
    kind, _, ident = path.partition("/")
    if svc == "tcb" and kind == "env":
        e = d["envs"].get(ident)
        return bool(e and e["region"] == region)
    if svc == "lighthouse" and kind == "instance":
        i = d["instances"].get(ident)
        return bool(i and i["region"] == region)
    if svc == "organization":
        org = d.get("org")
        if not org or ctx.data is not ctx.hub:
            return None
        if kind == "member":
            return ident in org["members"]
        if kind == "node":
            return ident in org["nodes"]
        return None
    if svc == "cam" and region == "":
        if kind == "uin":
            return ident in d["users"]
        if kind == "policy":
            return ident in d["policies"]
        if kind == "roleName":
            return any(r["RoleName"] == ident for r in d["roles"].values())
    return None


def _check_resources(ctx):
    rl = ctx.p["ResourceList"]
    if not 1 <= len(rl) <= 10:
        raise ApiError("LimitExceeded.ResourceNumPerRequest", "1 to 10 resources per request")
    ok, failed = [], []
    for res in rl:
        e = exists(ctx, res)
        if e is None:
            failed.append({"Resource": res, "Code": "InvalidParameterValue.ResourceDescriptionError",
                           "Message": "not a resource of this account the sandbox can tag"})
        elif not e:
            failed.append({"Resource": res, "Code": "ResourceNotFound",
                           "Message": "the resource does not exist"})
        else:
            ok.append(canonical(res))
            ctx.touch("tag:resource", res)
    return ok, failed


def check_key(k):
    if not k or len(k) > 127:
        raise ApiError("InvalidParameterValue.TagKeyLengthExceeded", "tag keys are 1-127 characters")
    if not KEY_RE.match(k):
        raise ApiError("InvalidParameterValue.TagKeyCharacterIllegal", "tag key %r has illegal characters" % k)
    if k.lower().startswith(RESERVED):
        raise ApiError("InvalidParameter.ReservedTagKey", "tag key %r is reserved" % k)


@action("tag")
def TagResources(ctx):
    tags = ctx.p["Tags"]
    if not 1 <= len(tags) <= 10:
        raise ApiError("LimitExceeded.TagNumPerRequest", "1 to 10 tags per request")
    for t in tags:
        check_key(t["TagKey"])
        if len(t["TagValue"]) > 255:
            raise ApiError("InvalidParameterValue.TagValueLengthExceeded", "tag values are at most 255 characters")
    ok, failed = _check_resources(ctx)
    for res in ok:
        cur = ctx.data["tags"].setdefault(res, {})
        new = dict(cur, **{t["TagKey"]: t["TagValue"] for t in tags})
        if len(new) > 50:
            failed.append({"Resource": res, "Code": "LimitExceeded.TagNumPerResource",
                           "Message": "a resource carries at most 50 tags"})
            continue
        cur.update(new)
    return {"FailedResources": failed}


@action("tag")
def UnTagResources(ctx):
    keys = ctx.p["TagKeys"]
    if not 1 <= len(keys) <= 10:
        raise ApiError("LimitExceeded.TagNumPerRequest", "1 to 10 tag keys per request")
    ok, failed = _check_resources(ctx)
    for res in ok:
        cur = ctx.data["tags"].get(res, {})
        for k in keys:
            cur.pop(k, None)
        if not cur:
            ctx.data["tags"].pop(res, None)
    return {"FailedResources": failed}


@action("tag", kind="list")
def GetResources(ctx):
    p = ctx.p
    filters = p.get("TagFilters") or []
    if len(filters) > 6 or any(len(f.get("TagValue") or []) > 10 for f in filters):
        raise ApiError("InvalidParameterValue", "at most 6 TagFilters with 10 values each")
    rl = p.get("ResourceList")
    if rl is not None and len(rl) > 10:
        raise ApiError("LimitExceeded.ResourceNumPerRequest", "at most 10 resources")
    limit = p.get("MaxResults", 50)
    if not 1 <= limit <= 200:
        raise ApiError("InvalidParameterValue", "MaxResults must be within 1..200")
    token = p.get("PaginationToken") or "0"
    if not token.isdigit():
        raise ApiError("InvalidParameter.PaginationTokenInvalid", "bad PaginationToken")
    rows = []
    for res in sorted(ctx.data["tags"]):
        tags = ctx.data["tags"][res]
        if not tags or (rl and res not in rl) or not ctx.allowed(res):
            continue
        if all(f["TagKey"] in tags and (not f.get("TagValue") or tags[f["TagKey"]] in f["TagValue"])
               for f in filters):
            rows.append({"Resource": res, "Tags": [{"TagKey": k, "TagValue": v, "Category": "Custom"}
                                                   for k, v in sorted(tags.items())]})
    if rl:
        return {"PaginationToken": "", "ResourceTagMappingList": rows}
    off = int(token)
    page = rows[off: off + limit]
    nxt = str(off + limit) if off + limit < len(rows) else ""
    return {"PaginationToken": nxt, "ResourceTagMappingList": page}
