#!/usr/bin/env python3
"""lighthouse_tat.t: the Lighthouse instance lifecycle (terminate refused
unless SHUTDOWN), the TAT agent coming online a while after RUNNING, and
TAT RunCommand ending in SUCCESS or FAILED with base64 output."""
import base64
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import error_code as code  # noqa: E402

t = Tap(31)


def b64(s):
    return base64.b64encode(s.encode()).decode()


# Every asynchronous step takes 600 s of the sandbox's clock: a state that
# lasts "until the delay" holds however slow the machine, and later() ends it.
with Sandbox("--async-delay-ms", "600000") as sb:
    def later(cond):
        """Move the sandbox's clock past one --async-delay-ms; cond()'s answer."""
        sb.advance_clock(601)
        return cond()

    lh = lambda a, p=None: sb.call("lighthouse", a, p)  # noqa: E731
    tat = lambda a, p=None: sb.call("tat", a, p)  # noqa: E731
    spec = {"BundleId": "bundle_gen_mc_med4_02", "BlueprintId": "lhbp-a1ubu224",
            "InstanceChargePrepaid": {"Period": 1}, "InstanceName": "ai-box"}
    iid = lh("CreateInstances", dict(spec, ClientToken="tok-1"))["InstanceIdSet"][0]
    inst = lambda: lh("DescribeInstances", {"InstanceIds": [iid]})["InstanceSet"][0]  # noqa: E731
    first = inst()
    t.ok(first["InstanceState"] == "PENDING" and first["LatestOperationState"] == "OPERATING",
         "a new instance is PENDING with its CreateInstances operation OPERATING",
         (first["InstanceState"], first["LatestOperationState"]))
    t.eq(lh("CreateInstances", dict(spec, ClientToken="tok-1"))["InstanceIdSet"], [iid],
         "CreateInstances with the same ClientToken returns the same instance")
    t.eq(lh("DescribeInstances")["TotalCount"], 1, "... and creates no second one")
    t.eq(code(lambda: tat("RunCommand", {"Content": b64("true"), "InstanceIds": [iid]})),
         "ResourceUnavailable.InstanceStateNotRunning", "RunCommand on a PENDING instance is refused")
    t.ok(later(lambda: inst()["InstanceState"] == "RUNNING"), "the instance reaches RUNNING")
    t.eq(inst()["LatestOperationState"], "SUCCESS", "... with LatestOperationState SUCCESS")
    t.eq(code(lambda: lh("TerminateInstances", {"InstanceIds": [iid]})),
         "UnsupportedOperation.InvalidInstanceState", "TerminateInstances on a RUNNING instance is refused")

    agent = lambda: tat("DescribeAutomationAgentStatus",  # noqa: E731
                        {"InstanceIds": [iid]})["AutomationAgentSet"]
    t.eq([a["AgentStatus"] for a in agent()], ["Offline"],
         "just RUNNING: the TAT agent is not online yet")
    t.eq(code(lambda: tat("RunCommand", {"Content": b64("true"), "InstanceIds": [iid]})),
         "ResourceUnavailable.AgentStatusNotOnline", "RunCommand before the agent is online is refused")
    t.eq(tat("DescribeInvocations")["TotalCount"], 0, "... and nothing was invoked")
    t.ok(later(lambda: agent()[0]["AgentStatus"] == "Online"), "the agent comes online")
    t.eq([a["InstanceId"] for a in tat("DescribeAutomationAgentStatus", {
        "Filters": [{"Name": "agent-status", "Values": ["Online"]}]})["AutomationAgentSet"]], [iid],
        "DescribeAutomationAgentStatus filters by agent-status")
    t.eq(code(lambda: tat("DescribeAutomationAgentStatus", {"InstanceIds": [iid], "Filters": [
        {"Name": "instance-id", "Values": [iid]}]})), "InvalidParameter.ConflictParameter",
        "InstanceIds and Filters together are refused")
    t.eq(code(lambda: tat("DescribeAutomationAgentStatus", {"InstanceIds": ["lhins-%08d" % n
                                                                           for n in range(101)]})),
         "InvalidParameterValue", "more than 100 InstanceIds are refused")

    ok_script = "#!/bin/bash\nset -e\necho installing\n# TCSANDBOX_OUTPUT: assistant installed\n"
    inv = tat("RunCommand", {"Content": b64(ok_script), "InstanceIds": [iid], "CommandName": "install"})
    state = lambda i: tat("DescribeInvocations", {"InvocationIds": [i]})["InvocationSet"][0]["InvocationStatus"]  # noqa: E731
    t.eq(state(inv["InvocationId"]), "RUNNING", "a new invocation is RUNNING")
    t.ok(later(lambda: state(inv["InvocationId"]) == "SUCCESS"), "... then SUCCESS")
    tasks = lambda i, hide: tat("DescribeInvocationTasks", {  # noqa: E731
        "Filters": [{"Name": "invocation-id", "Values": [i]}], "HideOutput": hide})["InvocationTaskSet"]
    task = tasks(inv["InvocationId"], False)[0]
    out = base64.b64decode(task["TaskResult"]["Output"]).decode()
    t.ok(task["TaskStatus"] == "SUCCESS" and task["TaskResult"]["ExitCode"] == 0,
         "its task is SUCCESS with exit code 0")
    t.like(out, "assistant installed\n", "the task output is base64 and carries the script's output lines")
    t.eq(tasks(inv["InvocationId"], True)[0]["TaskResult"]["Output"], "",
         "HideOutput=true (the default) hides the output")
    t.eq(base64.b64decode(task["CommandDocument"]["Content"]).decode(), ok_script,
         "CommandDocument.Content is the script, base64")

    bad = tat("RunCommand", {"Content": b64("echo oops\nTCSANDBOX_EXIT=3\n"), "InstanceIds": [iid]})
    t.ok(later(lambda: state(bad["InvocationId"]) == "FAILED"), "a script asking for exit 3 ends FAILED")
    task = tasks(bad["InvocationId"], False)[0]
    t.ok(task["TaskStatus"] == "FAILED" and task["TaskResult"]["ExitCode"] == 3,
         "... its task is FAILED with exit code 3", task["TaskStatus"])
    t.eq(code(lambda: tat("RunCommand", {"Content": "not base64!", "InstanceIds": [iid]})),
         "InvalidParameterValue.InvalidContent", "Content that is not base64 is refused")
    t.eq(code(lambda: tat("RunCommand", {"Content": b64("true"), "InstanceIds": [iid, "ins-abcdefgh"]})),
         "InvalidParameterValue.InconsistentInstance", "CVM and Lighthouse ids cannot be mixed")

    lh("StopInstances", {"InstanceIds": [iid]})
    t.eq(inst()["InstanceState"], "STOPPING", "StopInstances: STOPPING")
    t.ok(later(lambda: inst()["InstanceState"] == "STOPPED"), "... then STOPPED")
    lh("IsolateInstances", {"InstanceIds": [iid]})
    t.eq(code(lambda: lh("TerminateInstances", {"InstanceIds": [iid]})),
         "UnsupportedOperation.LatestOperationUnfinished", "TerminateInstances while isolation runs is refused")
    t.ok(later(lambda: inst()["InstanceState"] == "SHUTDOWN") and inst()["IsolatedTime"],
         "IsolateInstances: SHUTDOWN, with an IsolatedTime")
    lh("TerminateInstances", {"InstanceIds": [iid]})
    t.ok(later(lambda: lh("DescribeInstances")["TotalCount"] == 0),
         "TerminateInstances on a SHUTDOWN instance: it disappears")

    t.eq(code(lambda: lh("CreateInstances", dict(spec, BundleId="bundle_starter_mc_med2_02",
                                                 BlueprintId="lhbp-w1win22d"))),
         "InvalidParameterValue.BundleAndBlueprintNotMatch", "a Windows blueprint on a Linux-only bundle is refused")
    bsd = lh("CreateInstances", dict(spec, BlueprintId="lhbp-f1fbsd13"))["InstanceIdSet"][0]
    later(lambda: lh("DescribeInstances", {"InstanceIds": [bsd]})["InstanceSet"][0]["InstanceState"] == "RUNNING")
    t.eq(code(lambda: tat("RunCommand", {"Content": b64("true"), "InstanceIds": [bsd]})),
         "ResourceUnavailable.AgentNotInstalled", "RunCommand on a blueprint without the TAT agent is refused")
sys.exit(t.done())
