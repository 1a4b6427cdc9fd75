#!/usr/bin/env node
// A loopback stand-in for Tencent Cloud's API for benchmarks: answers every
// POST after --latency-ms with {"Response":{"RequestId":...}}.  Node's event
// loop keeps up with hundreds of concurrent requests, so the client, not
// this server, is what a benchmark measures.  Prints "listening on URL".
"use strict";
const http = require("http");
const latency = Number((process.argv.find((a) => a.startsWith("--latency-ms=")) || "=50").split("=")[1]);
let n = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const id = ++n;
    setTimeout(() => {
      const body = JSON.stringify({ Response: { RequestId: "bench-" + id, Uin: 100000000001 } });
      res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
      res.end(body);
    }, latency);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => {
  console.log("listening on http://127.0.0.1:" + server.address().port);
});
process.on("SIGTERM", () => process.exit(0));
