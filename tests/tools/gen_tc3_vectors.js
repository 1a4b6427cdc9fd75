#!/usr/bin/env node
// Writes TC3 signature vectors made by the official Node SDK's own signer
// (tencentcloud-sdk-nodejs common/sign.js) to stdout as JSON.  Seeded, so
// the output is the same on every run: tests/data/tc3_vectors.json is this
// script's output, and tests/host/tc3_vectors_fresh.t checks it still is.
"use strict";
const path = require("path");
const sdk = path.join(__dirname, "..", "node_modules", "tencentcloud-sdk-nodejs",
                      "tencentcloud", "common");
const Sign = require(path.join(sdk, "sign.js")).default;
const JSONbig = require(path.join(__dirname, "..", "node_modules", "json-bigint"))(
  { useNativeBigInt: true });

let seed = 20261122;
function rand() {  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const services = ["cam", "sts", "tcb", "lighthouse", "tat", "billing", "tag",
                  "cloudaudit", "organization", "cvm"];
const pieces = ["", "a", "Zoë", "李雷", "测试 空格", "emoji 😀", "quote\"q",
                "back\\slash", "new\nline", "tab\tc", "ctl\u0001x", "x".repeat(300),
                "ümlaut-ß", "日本語テキスト", "dash-_.@+=", "\u2028sep"];
const keys = ["Name", "Remark", "Uin", "PolicyId", "Filters", "Values",
              "Tags", "TagKey", "InstanceIds", "Limit", "Offset", "Info",
              "Email", "中文键", "Nested", "Empty"];

function value(depth) {
  switch (int(0, depth > 3 ? 4 : 7)) {
  case 0: return pick(pieces);
  case 1: return int(-1000, 1000000);
  case 2: return BigInt(int(1, 9)) * 10n ** BigInt(int(9, 17)) + BigInt(int(0, 999999));
  case 3: return pick([true, false]);
  case 4: return pick(["", 0, 1.5, -0.25]);
  case 5: return Array.from({ length: int(0, 4) }, () => value(depth + 1));
  case 6: return Array.from({ length: int(0, 3) },
                            () => Array.from({ length: int(0, 3) }, () => value(depth + 2)));
  default: return object(depth + 1);
  }
}
function object(depth) {
  const o = {};
  for (let i = int(0, 5); i > 0; i--) o[pick(keys)] = value(depth);
  return o;
}

const vectors = [];
for (let i = 0; i < 150; i++) {
  const service = pick(services);
  const host = pick([`${service}.tencentcloudapi.com`,
                     `${service}.ap-shanghai.tencentcloudapi.com`,
                     `${service}.intl.tencentcloudapi.com`]);
  const port = pick(["", "", ":8443"]);
  // Timestamps cover 1970..2100, with some a second either side of midnight UTC.
  let timestamp = int(0, 4102444800);
  if (i % 10 === 0) timestamp = timestamp - (timestamp % 86400) + pick([-1, 0, 86399]);
  const payload = i === 0 ? {} : object(0);
  const v = {
    secret_id: "AKID" + Math.floor(rand() * 1e16).toString(36) + "x".repeat(int(0, 20)),
    secret_key: Math.floor(rand() * 1e16).toString(36) + pick(["", "+/=", "ÄÖ"]),
    service, host, timestamp,
    content_type: "application/json",
    body: JSONbig.stringify(payload),
  };
  v.authorization = Sign.sign3({
    method: "POST", url: `https://${host}${port}/`, payload, timestamp,
    service, secretId: v.secret_id, secretKey: v.secret_key,
    multipart: false, headers: { "Content-Type": v.content_type },
  });
  vectors.push(v);
}
// The fact sheet's vector (§1.4): the SDK must agree with the documented
// signature, or this generator is not running the signer we think it is.
const doc = {
  secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
  secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
  service: "cvm", host: "cvm.tencentcloudapi.com", timestamp: 1551113065,
  content_type: "application/json", body: '{"Limit":1,"Offset":0}',
};
doc.authorization = Sign.sign3({
  method: "POST", url: "https://cvm.tencentcloudapi.com/",
  payload: { Limit: 1, Offset: 0 }, timestamp: doc.timestamp, service: "cvm",
  secretId: doc.secret_id, secretKey: doc.secret_key, multipart: false,
  headers: { "Content-Type": doc.content_type },
});
if (!doc.authorization.endsWith(
  "Signature=6c03bf4260bcf376e2bca4612b754021d2033acf0e44a2b70d9097370f8b326b"))
  throw new Error("the SDK disagrees with the documented vector");
vectors.push(doc);
process.stdout.write(JSON.stringify(vectors, null, 1) + "\n");
