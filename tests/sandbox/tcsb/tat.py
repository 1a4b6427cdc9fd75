"""TAT: RunCommand, DescribeInvocations, DescribeInvocationTasks,
DescribeAutomationAgentStatus.

RunCommand runs on Lighthouse instances (lhins-...) that are RUNNING and whose
blueprint has the TAT agent; CVM ids (ins-...) are not served and CVM and
Lighthouse ids cannot be mixed.  It is checked against each target
instance's Lighthouse resource qcs::lighthouse:REGION:uin/OWNER:instance/ID
(action tat:RunCommand); the Describe actions are operation-level.

An instance's TAT agent comes Online --async-delay-ms after the instance last
became RUNNING (created or started); until then RunCommand answers
ResourceUnavailable.AgentStatusNotOnline and DescribeAutomationAgentStatus
says Offline.  A stopped or isolated instance's agent is Offline.

Nothing is executed.  A task is RUNNING for --async-delay-ms, then ends as
the script asks through markers in its (base64-decoded, parameter-expanded)
content:
    TCSANDBOX_EXIT=<n>         exit code n (non-zero: FAILED)
    TCSANDBOX_FAIL             exit code 1 (FAILED)
    TCSANDBOX_TIMEOUT          TIMEOUT
    # TCSANDBOX_OUTPUT: text   a line of output
otherwise SUCCESS with exit code 0.  Output is base64, as in the real API,
and only returned with HideOutput=false.
"""
import base64
import binascii
import json
import re

from . import util
from .errors import ApiError
from .registry import action

EXIT_RE = re.compile(r"TCSANDBOX_EXIT=(-?\d+)")
OUT_RE = re.compile(r"^\s*#\s*TCSANDBOX_OUTPUT:\s?(.*)$", re.M)


def _outcome(script, task_id, instance_id, username, workdir):
    out = "tcsandbox: simulated run of task %s on %s as %s in %s (%d bytes)\n" % (
        task_id, instance_id, username, workdir, len(script))
    out += "".join(line + "\n" for line in OUT_RE.findall(script))
    if "TCSANDBOX_TIMEOUT" in script:
        return "TIMEOUT", -1, out, "the command timed out"
    m = EXIT_RE.search(script)
    code = int(m.group(1)) if m else (1 if "TCSANDBOX_FAIL" in script else 0)
    if code:
        return "FAILED", code, out, "the command exited with code %d" % code
    return "SUCCESS", 0, out, ""


def start_invocation(ctx, insts, content, ctype, timeout, workdir, username, name, start_at,
                     source="USER", description="", params=None):
    """Record an invocation with one task per instance; return its id."""
    d = ctx.data
    script = base64.b64decode(content).decode("utf-8", "replace")
    for k, v in (params or {}).items():
        script = script.replace("{{%s}}" % k, str(v))
    inv_id, cmd_id = "inv-" + util.rand(8), "cmd-" + util.rand(8)
    done_at = start_at + ctx.cfg.async_delay
    tasks = []
    for i in insts:
        tid = "invt-" + util.rand(10)
        status, code, output, err = _outcome(script, tid, i["InstanceId"], username, workdir)
        d["tasks"][tid] = {"InvocationTaskId": tid, "InvocationId": inv_id, "CommandId": cmd_id,
                           "InstanceId": i["InstanceId"], "created": ctx.now,
                           "start_at": start_at, "done_at": done_at, "final": status,
                           "exit_code": code, "output": output, "error": err}
        tasks.append(tid)
    d["invocations"][inv_id] = {
        "InvocationId": inv_id, "CommandId": cmd_id, "CommandName": name,
        "Description": description, "content": content, "CommandType": ctype,
        "Timeout": timeout, "WorkingDirectory": workdir, "Username": username,
        "created": ctx.now, "start_at": start_at, "done_at": done_at, "region": ctx.region,
        "tasks": tasks, "source": source, "Parameters": json.dumps(params or {})}
    return inv_id


def agent_status(ctx, i):
    """Online once i has been RUNNING for --async-delay-ms, else Offline."""
    op = i.get("op")
    if i["state"] != "RUNNING" or (op and op["state"] == "OPERATING"):
        return "Offline"
    since = op["done_at"] if op else i["created"]
    return "Online" if ctx.now >= since + ctx.cfg.async_delay else "Offline"


def task_status(ctx, t):
    if ctx.now < t["start_at"]:
        return "PENDING"
    if ctx.now < t["done_at"]:
        return "RUNNING"
    return t["final"]


def invocation_status(ctx, inv):
    states = [task_status(ctx, ctx.data["tasks"][t]) for t in inv["tasks"]]
    if any(s == "RUNNING" for s in states):
        return "RUNNING"
    if any(s == "PENDING" for s in states):
        return "PENDING"
    if all(s == "SUCCESS" for s in states):
        return "SUCCESS"
    if all(s == states[0] for s in states):
        return states[0]
    return "PARTIAL_FAILED"


@action("tat", kind="res")
def RunCommand(ctx):
    p = ctx.p
    try:
        script = base64.b64decode(p["Content"], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("InvalidParameterValue.InvalidContent", "Content is not valid base64")
    if len(p["Content"]) > 64 * 1024 or not script:
        raise ApiError("InvalidParameterValue.InvalidContent", "Content must be 1 byte to 64 KB")
    ids = p["InstanceIds"]
    if not 1 <= len(ids) <= 200:
        raise ApiError("InvalidParameterValue", "InstanceIds takes 1 to 200 ids")
    kinds = {i.split("-", 1)[0] for i in ids}
    if len(kinds) > 1:
        raise ApiError("InvalidParameterValue.InconsistentInstance",
                       "CVM and Lighthouse instances cannot be mixed")
    ctype = p.get("CommandType", "SHELL")
    if ctype not in ("SHELL", "POWERSHELL", "BAT"):
        raise ApiError("InvalidParameterValue", "CommandType must be SHELL, POWERSHELL or BAT")
    timeout = p.get("Timeout", 60)
    if not 1 <= timeout <= 86400:
        raise ApiError("InvalidParameterValue", "Timeout must be within 1..86400")
    name = p.get("CommandName", "")
    if len(name.encode()) > 60:
        raise ApiError("InvalidParameterValue", "CommandName is longer than 60 bytes")
    params = {}
    if p.get("EnableParameter"):
        for field in ("DefaultParameters", "Parameters"):
            try:
                params.update(json.loads(p.get(field) or "{}"))
            except ValueError:
                raise ApiError("InvalidParameterValue.InvalidParameters", "%s is not JSON" % field)
        for c in p.get("DefaultParameterConfs") or []:
            params.setdefault(c["ParameterName"], c["ParameterValue"])
    from .lighthouse import tick
    tick(ctx)
    insts = []
    for iid in ids:
        if not re.match(r"^(lhins|ins)-[a-z0-9]{8}$", iid):
            raise ApiError("InvalidParameterValue.InvalidInstanceId", "malformed id %r" % iid)
        i = ctx.data["instances"].get(iid)
        region = i["region"] if i else ctx.region
        ctx.authorize(ctx.res("lighthouse", region, "instance/%s" % iid))
        if i is None or i["region"] != ctx.region:
            raise ApiError("ResourceNotFound.InstanceNotFound", "the instance %s does not exist" % iid)
        if i["state"] != "RUNNING" or (i.get("op") or {}).get("state") == "OPERATING":
            raise ApiError("ResourceUnavailable.InstanceStateNotRunning",
                           "the instance %s is not RUNNING" % iid)
        from .lighthouse_catalog import BLUEPRINTS
        if not BLUEPRINTS[i["BlueprintId"]]["SupportAutomationTools"]:
            raise ApiError("ResourceUnavailable.AgentNotInstalled",
                           "the TAT agent is not installed on %s" % iid)
        if agent_status(ctx, i) != "Online":
            raise ApiError("ResourceUnavailable.AgentStatusNotOnline",
                           "the TAT agent on %s is not online" % iid)
        insts.append(i)
        ctx.touch("lighthouse:instance", iid)
    inv_id = start_invocation(ctx, insts, p["Content"], ctype, timeout,
                              p.get("WorkingDirectory", "/root"), p.get("Username", "root"),
                              name, ctx.now, "USER", p.get("Description", ""), params)
    ctx.touch("tat:invocation", inv_id)
    inv = ctx.data["invocations"][inv_id]
    return {"CommandId": inv["CommandId"], "InvocationId": inv_id}


def _select(ctx, items, ids_field, id_key, filters, spec):
    if ctx.p.get(ids_field) and filters:
        raise ApiError("InvalidParameter.ConflictParameter", "%s and Filters are exclusive" % ids_field)
    ids = ctx.p.get(ids_field)
    if ids is not None and len(ids) > 100:
        raise ApiError("InvalidParameterValue", "at most 100 ids")
    if len(filters) > 10:
        raise ApiError("InvalidParameterValue", "at most 10 filters")
    rows = [x for x in items if not ids or x[id_key] in ids]
    for f in filters:
        get = spec.get(f["Name"])
        if get is None:
            raise ApiError("InvalidParameterValue.InvalidFilter", "unknown filter %r" % f["Name"])
        rows = [x for x in rows if get(x) in f["Values"]]
    rows.sort(key=lambda x: (x["created"], x[id_key]), reverse=True)
    return util.page_ol(rows, ctx.p)


def _iso_or_empty(ctx, ts):
    return util.iso(ts) if ts <= ctx.now else ""


@action("tat")
def DescribeInvocations(ctx):
    invs = [v for v in ctx.data["invocations"].values() if v["region"] == ctx.region]
    total, page = _select(ctx, invs, "InvocationIds", "InvocationId", ctx.p.get("Filters") or [], {
        "invocation-id": lambda x: x["InvocationId"], "command-id": lambda x: x["CommandId"],
        "command-created-by": lambda x: "USER", "instance-kind": lambda x: "LIGHTHOUSE"})
    rows = []
    for v in page:
        basic = [{"InvocationTaskId": t, "TaskStatus": task_status(ctx, ctx.data["tasks"][t]),
                  "InstanceId": ctx.data["tasks"][t]["InstanceId"]} for t in v["tasks"]]
        rows.append({
            "InvocationId": v["InvocationId"], "CommandId": v["CommandId"],
            "CommandName": v["CommandName"], "InvocationStatus": invocation_status(ctx, v),
            "InvocationTaskBasicInfoSet": basic, "Description": v["Description"],
            "StartTime": _iso_or_empty(ctx, v["start_at"]), "EndTime": _iso_or_empty(ctx, v["done_at"]),
            "CreatedTime": util.iso(v["created"]),
            "UpdatedTime": util.iso(min(ctx.now, v["done_at"])),
            "Parameters": v["Parameters"], "DefaultParameters": "{}", "InstanceKind": "LIGHTHOUSE",
            "Username": v["Username"], "InvocationSource": "USER", "CommandContent": v["content"],
            "CommandType": v["CommandType"], "Timeout": v["Timeout"],
            "WorkingDirectory": v["WorkingDirectory"], "OutputCOSBucketUrl": "",
            "OutputCOSKeyPrefix": ""})
    return {"TotalCount": total, "InvocationSet": rows}


@action("tat")
def DescribeInvocationTasks(ctx):
    tasks = [t for t in ctx.data["tasks"].values()
             if ctx.data["invocations"].get(t["InvocationId"], {}).get("region") == ctx.region]
    total, page = _select(ctx, tasks, "InvocationTaskIds", "InvocationTaskId",
                          ctx.p.get("Filters") or [], {
                              "invocation-task-id": lambda x: x["InvocationTaskId"],
                              "invocation-id": lambda x: x["InvocationId"],
                              "instance-id": lambda x: x["InstanceId"],
                              "command-id": lambda x: x["CommandId"]})
    hide = ctx.p.get("HideOutput", True)
    rows = []
    for t in page:
        inv = ctx.data["invocations"][t["InvocationId"]]
        st = task_status(ctx, t)
        done = st not in ("PENDING", "RUNNING")
        output = base64.b64encode(t["output"].encode()).decode() if done and not hide else ""
        rows.append({
            "InvocationId": t["InvocationId"], "InvocationTaskId": t["InvocationTaskId"],
            "CommandId": t["CommandId"], "TaskStatus": st, "InstanceId": t["InstanceId"],
            "TaskResult": {"ExitCode": t["exit_code"] if done else 0, "Output": output,
                           "ExecStartTime": _iso_or_empty(ctx, t["start_at"]),
                           "ExecEndTime": _iso_or_empty(ctx, t["done_at"]),
                           "Dropped": 0, "OutputUrl": "", "OutputUploadCOSErrorInfo": ""},
            "StartTime": _iso_or_empty(ctx, t["start_at"]), "EndTime": _iso_or_empty(ctx, t["done_at"]),
            "CreatedTime": util.iso(t["created"]),
            "UpdatedTime": util.iso(min(ctx.now, t["done_at"])),
            "CommandDocument": {"Content": inv["content"], "CommandType": inv["CommandType"],
                                "Timeout": inv["Timeout"], "WorkingDirectory": inv["WorkingDirectory"],
                                "Username": inv["Username"], "OutputCOSBucketUrl": "",
                                "OutputCOSKeyPrefix": ""},
            "ErrorInfo": t["error"] if done else "", "InvocationSource": "USER",
            "CommandName": inv["CommandName"]})
    return {"TotalCount": total, "InvocationTaskSet": rows}


@action("tat")
def DescribeAutomationAgentStatus(ctx):
    """The agents of this region's Lighthouse instances whose blueprint has one."""
    from .lighthouse import tick
    from .lighthouse_catalog import BLUEPRINTS
    tick(ctx)
    ids, filters = ctx.p.get("InstanceIds"), ctx.p.get("Filters") or []
    if ids and filters:
        raise ApiError("InvalidParameter.ConflictParameter", "InstanceIds and Filters are exclusive")
    if ids is not None and len(ids) > 100:
        raise ApiError("InvalidParameterValue", "at most 100 InstanceIds")
    if len(filters) > 10 or any(len(f["Values"]) > 5 for f in filters):
        raise ApiError("InvalidParameterValue", "at most 10 filters of 5 values each")
    rows = []
    for i in sorted(ctx.data["instances"].values(), key=lambda i: (i["created"], i["InstanceId"])):
        if i["region"] != ctx.region or (ids and i["InstanceId"] not in ids):
            continue
        if not BLUEPRINTS[i["BlueprintId"]]["SupportAutomationTools"]:
            continue
        rows.append({"InstanceId": i["InstanceId"], "Version": "1.1.8",
                     "LastHeartbeatTime": util.iso(ctx.now), "AgentStatus": agent_status(ctx, i),
                     "Environment": "Linux", "SupportFeatures": []})
    spec = {"agent-status": lambda r: r["AgentStatus"], "environment": lambda r: r["Environment"],
            "instance-id": lambda r: r["InstanceId"]}
    for f in filters:
        get = spec.get(f["Name"])
        if get is None:
            raise ApiError("InvalidParameterValue.InvalidFilter", "unknown filter %r" % f["Name"])
        rows = [r for r in rows if get(r) in f["Values"]]
    total, page = util.page_ol(rows, ctx.p)
    return {"TotalCount": total, "AutomationAgentSet": page}
