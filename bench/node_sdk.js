#!/usr/bin/env node
// The official Node SDK doing the same job as bench/calls.lua: N calls of
// cam.GetUser with W workers against the loopback URL given, through a
// keep-alive agent whose lookup sends cam.tencentcloudapi.com to
// 127.0.0.1 (so the SDK signs for the real host).  Prints wall seconds and
// the process's CPU seconds.
"use strict";
const path = require("path");
const http = require("http");
const sdk = require(path.join(__dirname, "..", "tests", "node_modules", "tencentcloud-sdk-nodejs"));
const [url, total = "1000", workers = "32"] = process.argv.slice(2);
const port = new URL(url).port;
const agent = new http.Agent({
  keepAlive: true, maxSockets: Number(workers),
  lookup: (host, opts, cb) => (opts && opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)),
});
const client = new sdk.cam.v20190116.Client({
  credential: { secretId: "AKIDbench", secretKey: "benchsecret" },
  region: "",
  profile: { httpProfile: { endpoint: `cam.tencentcloudapi.com:${port}`, protocol: "http://", agent } },
});
(async () => {
  let next = 0;
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  await Promise.all(Array.from({ length: Number(workers) }, async () => {
    while (next < Number(total)) {
      const i = next++;
      await client.GetUser({ Name: "u" + i });
    }
  }));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(u0);
  console.log(JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1e6 }));
  process.exit(0);
})();
