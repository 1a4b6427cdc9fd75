#!/usr/bin/env python3
"""persistence.t: state survives kill -9 and restart; a write acknowledged
to the client is on disk before the answer leaves; SIGTERM exits 0."""
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox, wait_for  # noqa: E402
from tap import Tap  # noqa: E402

t = Tap(12)


def snapshot(sb):
    now = int(time.time())
    users = sb.call("cam", "ListUsers")["Data"]
    groups = [sb.call("cam", "GetGroup", {"GroupId": g["GroupId"]})
              for g in sb.call("cam", "ListGroups", {"Rp": 200})["GroupInfo"]]
    pols = sb.call("cam", "ListPolicies", {"Scope": "Local", "Rp": 200})["List"]
    versions = [sb.call("cam", "ListPolicyVersions", {"PolicyId": p["PolicyId"]})["Versions"] for p in pols]
    envs = sb.call("tcb", "DescribeEnvs", region="ap-shanghai")["EnvList"]
    inst = sb.call("lighthouse", "DescribeInstances")["InstanceSet"]
    tags = sb.call("tag", "GetResources")["ResourceTagMappingList"]
    roles = sb.call("cam", "DescribeRoleList", {"Page": 1, "Rp": 200})["List"]
    for x in groups:
        x.pop("RequestId")
    out = {"users": users, "groups": groups, "policies": pols, "versions": versions,
           "envs": [dict(e, Status=None) for e in envs],
           "instances": [dict(i, InstanceState=None, LatestOperationState=None) for i in inst],
           "tags": tags, "roles": roles}
    audit = sb.call("cloudaudit", "LookUpEvents", {"StartTime": now - 3600, "EndTime": now + 60,
                                                   "MaxResults": 50})["TotalCount"]
    return out, audit


with Sandbox("--async-delay-ms", "300") as sb:
    u = sb.call("cam", "AddUser", {"Name": "dana", "ConsoleLogin": 1, "UseApi": 1, "Email": "d@x.org"})
    g = sb.call("cam", "CreateGroup", {"GroupName": "prod-operator"})
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": g["GroupId"], "Uin": u["Uin"]}]})
    doc = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "*", "resource": "*"}]})
    p = sb.call("cam", "CreatePolicy", {"PolicyName": "p1", "PolicyDocument": doc})
    sb.call("cam", "CreatePolicyVersion", {"PolicyId": p["PolicyId"], "PolicyDocument": doc, "SetAsDefault": True})
    sb.call("cam", "AttachUserPolicy", {"PolicyId": p["PolicyId"], "AttachUin": u["Uin"]})
    sb.call("tcb", "CreateEnv", {"Alias": "dana-ws", "PackageId": "baas_personal", "Resources": ["flexdb"],
                                 "Tags": [{"Key": "owner", "Value": "dana"}]}, region="ap-shanghai")
    iid = sb.call("lighthouse", "CreateInstances", {
        "BundleId": "bundle_gen_mc_med4_02", "BlueprintId": "lhbp-a1ubu224",
        "InstanceChargePrepaid": {"Period": 1}, "Tags": [{"Key": "owner", "Value": "dana"}]})["InstanceIdSet"][0]
    trust = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole",
                        "principal": {"qcs": ["qcs::cam::uin/%d:root" % sb.owner_uin]}}]})
    sb.call("cam", "CreateRole", {"RoleName": "r1", "PolicyDocument": trust})
    before, audit_before = snapshot(sb)
    t.eq(sb.kill(), -9, "tcsandbox killed with SIGKILL")
    sb.start()
    after, audit_after = snapshot(sb)
    t.eq(after, before, "users, groups, members, policies, versions, envs, instances, tags and roles survive kill -9")
    t.ok(audit_after >= audit_before, "CloudAudit events survive kill -9 (%d before, %d after)" % (audit_before, audit_after))
    t.eq(sb.call("cam", "GetUserAppId", secret_id=u["SecretId"], secret_key=u["SecretKey"])["Uin"], str(u["Uin"]),
         "the sub-user's key still authenticates after the restart")
    t.ok(wait_for(lambda: sb.call("lighthouse", "DescribeInstances", {"InstanceIds": [iid]})
                  ["InstanceSet"][0]["InstanceState"] == "RUNNING"),
         "an instance created before the kill reaches RUNNING after the restart")

    # Writes acknowledged just before a kill -9 are all there.
    for i in range(40):
        sb.call("cam", "CreateGroup", {"GroupName": "seq-%02d" % i})
    sb.kill()
    sb.start()
    names = {x["GroupName"] for x in sb.call("cam", "ListGroups", {"Rp": 200})["GroupInfo"]}
    t.ok({"seq-%02d" % i for i in range(40)} <= names, "40 sequential writes answered before kill -9 are kept")

    done, lock = [], threading.Lock()

    def writer(k):
        c = sb.client()
        for i in range(10):
            c.call("cam", "AddUser", {"Name": "w%02d-%d" % (k, i)})
            with lock:
                done.append("w%02d-%d" % (k, i))
        c.close()
    threads = [threading.Thread(target=writer, args=(k,)) for k in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    sb.kill()
    sb.start()
    have = {x["Name"] for x in sb.call("cam", "ListUsers")["Data"]}
    t.ok(set(done) <= have and len(done) == 160,
         "160 concurrent writes answered before kill -9 are kept (%d acknowledged)" % len(done))

    rc = sb.stop()
    t.eq(rc, 0, "SIGTERM stops tcsandbox with status 0")
    with open(sb.state_path, encoding="utf-8") as f:
        state = json.load(f)
    t.eq(len(state["users"]), 161, "the state file holds the 161 users after a clean stop")
    t.ok(not os.path.exists(sb.state_path + ".tmp"), "no temporary state file is left behind")
    sb.start()
    t.eq(len(sb.call("cam", "ListUsers")["Data"]), 161, "a restart after SIGTERM keeps them")

    # Something else took the port while it was down: sb.start() comes
    # back on a free one, and sb.url/sb.port follow.
    old = sb.port
    sb.stop()
    squatter = socket.socket()
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", old))
    squatter.listen()
    try:
        sb.start()
        t.ok(sb.port != old and sb.url.endswith(":%d" % sb.port)
             and len(sb.call("cam", "ListUsers")["Data"]) == 161,
             "a restart whose port was taken comes back on another (sb.url follows), state kept",
             (old, sb.url))
    finally:
        squatter.close()
sys.exit(t.done())
