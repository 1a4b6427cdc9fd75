#!/usr/bin/env node
// sdk_client.t: the official tencentcloud-sdk-nodejs, with its own signer,
// as the client of tcsandbox.  The SDK takes the signing service from the
// first label of the endpoint host and signs the host without its port, so
// the endpoint is "<service>.sandbox.test:PORT" and an http.Agent whose
// lookup answers 127.0.0.1 connects it to the sandbox.
"use strict";
const path = require("path");
const http = require("http");
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");

const TESTS = path.resolve(__dirname, "..");
const SDK = path.join(TESTS, "node_modules", "tencentcloud-sdk-nodejs", "tencentcloud");
const svc = (s, v) => require(path.join(SDK, "services", s, v, `${s}_client.js`)).Client;
const CamClient = svc("cam", "v20190116");
const StsClient = svc("sts", "v20180813");
const TcbClient = svc("tcb", "v20180608");
const LhClient = svc("lighthouse", "v20200324");
const Sign = require(path.join(SDK, "common", "sign.js")).default;

const ROOT = { secretId: "AKIDtcsandboxROOT0000000000000000000",
               secretKey: "tcsandboxRootSecretKey0000000000" };

let n = 0, failed = 0;
const PLAN = 16;
console.log(`1..${PLAN}`);
function ok(cond, name, diag) {
  n++;
  console.log(`${cond ? "ok" : "not ok"} ${n} - ${name}`);
  if (!cond) { failed++; if (diag !== undefined) console.log("#   " + String(diag).replace(/\n/g, "\n#   ")); }
}

function startSandbox() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tcsandbox-sdk-"));
  const child = spawn("python3", [path.join(__dirname, "tcsandbox"), "--port", "0",
                                  "--async-delay-ms", "100", "--state", path.join(dir, "state.json")],
    { env: Object.assign({}, process.env, { TENCENTCLOUD_SECRET_ID: ROOT.secretId,
                                            TENCENTCLOUD_SECRET_KEY: ROOT.secretKey }),
      stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("tcsandbox did not start: " + err)), 20000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/^tcsandbox listening on http:\/\/127\.0\.0\.1:(\d+)\n/);
      if (m) { clearTimeout(timer); resolve({ child, dir, port: Number(m[1]) }); }
    });
    child.on("exit", (code) => reject(new Error(`tcsandbox exited ${code}: ${err}`)));
  });
}

const agent = new http.Agent({
  keepAlive: true,
  lookup: (host, opts, cb) => (opts && opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }])
                                                : cb(null, "127.0.0.1", 4)),
});

function client(Cls, service, port, credential, region) {
  return new Cls({ credential, region: region || "ap-guangzhou",
                   profile: { httpProfile: { endpoint: `${service}.sandbox.test:${port}`,
                                             protocol: "http://", agent } } });
}

async function code(p) {
  try { await p; return "(success)"; } catch (e) { return e.code || String(e); }
}

async function main() {
  const sb = await startSandbox();
  try {
    const cam = client(CamClient, "cam", sb.port, ROOT);
    const app = await cam.GetUserAppId({});
    ok(app.AppId === 1300000001 && app.OwnerUin === "100000000001", "GetUserAppId answers the documented AppId and owner", JSON.stringify(app));

    const user = await cam.AddUser({ Name: "sdk-user", ConsoleLogin: 1, Remark: "from the SDK" });
    ok(typeof user.Uin === "number" && user.Uin > 1e11 && user.Password.length === 32,
       "AddUser returns a 12-digit Uin and a generated password", JSON.stringify(user));
    const got = await cam.GetUser({ Name: "sdk-user" });
    ok(got.Uin === user.Uin && got.Remark === "from the SDK", "GetUser finds the user", JSON.stringify(got));

    const tcb = client(TcbClient, "tcb", sb.port, ROOT, "ap-shanghai");
    const env = await tcb.CreateEnv({ Alias: "sdk-env", PackageId: "baas_personal", Resources: ["flexdb"] });
    const envs = await tcb.DescribeEnvs({});
    ok(envs.EnvList.length === 1 && envs.EnvList[0].EnvId === env.EnvId, "CreateEnv then DescribeEnvs (tcb)", JSON.stringify(envs).slice(0, 300));

    const lh = client(LhClient, "lighthouse", sb.port, ROOT);
    const bundles = await lh.DescribeBundles({ Limit: 100 });
    ok(bundles.TotalCount >= 3 && bundles.BundleSet.every((b) => b.BundleId.startsWith("bundle")), "DescribeBundles (lighthouse)");

    ok(await code(cam.GetUser({ Name: "sdk-user", Bogus: 1 })) === "UnknownParameter", "an unknown field gets UnknownParameter");
    ok(await code(cam.request("NoSuchAction", {})) === "InvalidAction", "an unknown action gets InvalidAction");
    ok(await code(cam.GetUser({})) === "MissingParameter", "a missing required field gets MissingParameter");

    // A tampered signature: flip the last hex digit the SDK's signer produced.
    const sign3 = Sign.sign3;
    Sign.sign3 = function (args) {
      const h = sign3.call(Sign, args);
      return h.slice(0, -1) + (h.endsWith("0") ? "1" : "0");
    };
    const tampered = await code(cam.GetUserAppId({}));
    Sign.sign3 = sign3;
    ok(tampered === "AuthFailure.SignatureFailure", "a tampered signature gets AuthFailure.SignatureFailure", tampered);

    const wrongKey = client(CamClient, "cam", sb.port, { secretId: ROOT.secretId, secretKey: "x".repeat(32) });
    ok(await code(wrongKey.GetUserAppId({})) === "AuthFailure.SignatureFailure", "a wrong secret key gets AuthFailure.SignatureFailure");

    // A stale timestamp: the SDK reads the clock through `new Date()`.
    const RealDate = global.Date;
    global.Date = class extends RealDate {
      constructor(...a) { if (a.length) super(...a); else super(RealDate.now() - 600 * 1000); }
    };
    const stale = await code(cam.GetUserAppId({}));
    global.Date = RealDate;
    ok(stale === "AuthFailure.SignatureExpire", "a timestamp 10 minutes old gets AuthFailure.SignatureExpire", stale);

    const unknown = client(CamClient, "cam", sb.port, { secretId: "AKID" + "Z".repeat(32), secretKey: ROOT.secretKey });
    ok(await code(unknown.GetUserAppId({})) === "AuthFailure.SecretIdNotFound", "an unknown SecretId gets AuthFailure.SecretIdNotFound");

    // Temporary credentials: valid, then a wrong token, then expired.  The
    // token lives 5-6 s (ExpiredTime is whole seconds): room for the three
    // calls that need it valid on a loaded machine; the wait for expiry
    // below is bounded at 15 s after them.
    const sts = client(StsClient, "sts", sb.port, ROOT);
    const policy = encodeURIComponent(JSON.stringify({ version: "2.0", statement: [{ effect: "allow", action: ["cam:GetUser"], resource: ["*"] }] }));
    const fed = await sts.GetFederationToken({ Name: "sdktest", Policy: policy, DurationSeconds: 6 });
    const tmp = { secretId: fed.Credentials.TmpSecretId, secretKey: fed.Credentials.TmpSecretKey, token: fed.Credentials.Token };
    const tmpCam = client(CamClient, "cam", sb.port, tmp);
    const first = await code(tmpCam.GetUser({ Name: "sdk-user" }));
    ok(first === "(success)", "temporary credentials work before they expire", first);
    const denied = await code(tmpCam.ListUsers({}));
    ok(denied === "AuthFailure.UnauthorizedOperation", "the federation policy limits what the temporary key may do", denied);
    const badToken = client(CamClient, "cam", sb.port, Object.assign({}, tmp, { token: "not-the-token" }));
    ok(await code(badToken.GetUser({ Name: "sdk-user" })) === "AuthFailure.TokenFailure", "a wrong session token gets AuthFailure.TokenFailure");
    let last = "";
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      last = await code(tmpCam.GetUser({ Name: "sdk-user" }));
      if (last === "AuthFailure.TokenFailure") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    ok(last === "AuthFailure.TokenFailure", "an expired session token gets AuthFailure.TokenFailure", last);
  } catch (e) {
    ok(false, "unexpected exception", e.stack || e);
  } finally {
    sb.child.kill("SIGTERM");
    await new Promise((r) => sb.child.on("exit", r));
    fs.rmSync(sb.dir, { recursive: true, force: true });
    agent.destroy();
  }
  if (n !== PLAN) console.log(`# planned ${PLAN} tests but ran ${n}`);
  process.exit(failed || n !== PLAN ? 1 : 0);
}

main();
