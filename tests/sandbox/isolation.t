#!/usr/bin/env python3
"""isolation.t: a sub-user whose policy allows only its own TCB environment
sees only that environment in DescribeEnvs and gets an authorization error
on every action against another environment (issue 3, Done when)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox, wait_for  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError  # noqa: E402

DENIED = "AuthFailure.UnauthorizedOperation"
t = Tap(13)


def err(f):
    try:
        f()
        return "(success)"
    except ApiError as e:
        return e.code


with Sandbox("--async-delay-ms", "50") as sb:
    O, REGION = sb.owner_uin, "ap-shanghai"
    tcb = lambda a, p=None, **kw: sb.call("tcb", a, p, region=REGION, **kw)  # noqa: E731
    people = {}
    for name in ("ann", "ben", "cid"):
        u = sb.call("cam", "AddUser", {"Name": name, "ConsoleLogin": 0, "UseApi": 1})
        env = tcb("CreateEnv", {"Alias": name + "-ws", "PackageId": "baas_personal",
                                "Resources": ["flexdb"], "Tags": [{"Key": "owner", "Value": name}]})
        doc = {"version": "2.0", "statement": [{
            "effect": "allow", "action": ["tcb:*"],
            "resource": ["qcs::tcb:%s:uin/%d:env/%s" % (REGION, O, env["EnvId"])]}]}
        pol = sb.call("cam", "CreatePolicy", {"PolicyName": "ws-" + name,
                                              "PolicyDocument": json.dumps(doc)})
        sb.call("cam", "AttachUserPolicy", {"PolicyId": pol["PolicyId"], "AttachUin": u["Uin"]})
        people[name] = (u, env["EnvId"])
    wait_for(lambda: all(e["Status"] == "NORMAL" for e in tcb("DescribeEnvs")["EnvList"]))

    ann, ann_env = people["ann"]
    as_ann = lambda a, p=None: sb.call("tcb", a, p, ann["SecretId"], ann["SecretKey"], region=REGION)  # noqa: E731
    t.eq(len(tcb("DescribeEnvs")["EnvList"]), 3, "the root key sees all three environments")
    seen = as_ann("DescribeEnvs")
    t.eq([e["EnvId"] for e in seen["EnvList"]], [ann_env], "DescribeEnvs with ann's key lists only ann's environment")
    t.eq(seen["Total"], 1, "... and Total counts only what ann may see")

    for other in ("ben", "cid"):
        env = people[other][1]
        t.eq(err(lambda: as_ann("DescribeEnvs", {"EnvId": env})), DENIED,
             "DescribeEnvs EnvId=%s's environment is refused" % other)
        t.eq(err(lambda: as_ann("ModifyEnv", {"EnvId": env, "Alias": "mine"})), DENIED,
             "ModifyEnv on %s's environment is refused" % other)
        t.eq(err(lambda: as_ann("DestroyEnv", {"EnvId": env})), DENIED,
             "DestroyEnv on %s's environment is refused" % other)
    res = "qcs::tcb:%s:uin/%d:env/%s" % (REGION, O, people["ben"][1])
    t.eq(err(lambda: sb.call("tag", "TagResources", {"ResourceList": [res], "Tags": [
        {"TagKey": "owner", "TagValue": "ann"}]}, ann["SecretId"], ann["SecretKey"])), DENIED,
        "TagResources on ben's environment is refused")
    t.eq(err(lambda: as_ann("ModifyEnv", {"EnvId": ann_env, "Alias": "ann-renamed"})), "(success)",
         "ModifyEnv on ann's own environment succeeds")
    t.eq(err(lambda: as_ann("CreateEnv", {"Alias": "extra", "PackageId": "baas_personal",
                                          "Resources": ["flexdb"]})), DENIED,
         "CreateEnv (operation-level, resource *) is refused to a per-environment policy")
    names = sorted(e["Alias"] for e in tcb("DescribeEnvs")["EnvList"])
    t.eq(names, ["ann-renamed", "ben-ws", "cid-ws"], "nothing of anyone else changed")
sys.exit(t.done())
