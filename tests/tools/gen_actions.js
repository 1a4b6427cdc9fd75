#!/usr/bin/env node
// Writes lua/tcrun/actions.lua, the catalogue of API actions the linter
// (lua/tcrun/lint.lua) checks policy actions against, to stdout: for every
// service of the installed official Node SDK, the method names of each
// tencentcloud/services/<svc>/<version>/<svc>_client.d.ts (the union over
// the service's versions), sorted.  The output depends only on the SDK, so
// tests/lua/lint.t regenerates it and compares with the committed file.
//   node tests/tools/gen_actions.js > lua/tcrun/actions.lua
"use strict";
const fs = require("fs");
const path = require("path");
const root = path.join(__dirname, "..", "node_modules", "tencentcloud-sdk-nodejs");
const services = path.join(root, "tencentcloud", "services");
const version = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).version;

// A client method, as the SDK declares each one:
//   "    AddUser(req: AddUserRequest, cb?: ...) => void): Promise<AddUserResponse>;"
const METHOD = /^ {4}([A-Z][A-Za-z0-9]*)\(req\??: [^\n]*\): Promise<[^\n]*>;$/gm;

const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const catalogue = [];
for (const svc of fs.readdirSync(services).sort(byName)) {
  const dir = path.join(services, svc);
  if (!fs.statSync(dir).isDirectory()) continue;
  const actions = new Set();
  for (const ver of fs.readdirSync(dir).sort(byName)) {
    const file = path.join(dir, ver, `${svc}_client.d.ts`);
    if (!/^v\d{8}$/.test(ver) || !fs.existsSync(file)) continue;
    for (const m of fs.readFileSync(file, "utf8").matchAll(METHOD)) actions.add(m[1]);
  }
  if (actions.size === 0) continue;
  if (!/^[a-z][a-z0-9]*$/.test(svc)) throw new Error(`unexpected service name ${svc}`);
  catalogue.push([svc, [...actions].sort(byName)]);
}
if (catalogue.length === 0) throw new Error(`no services under ${services}`);

const out = [
  "-- actions.lua: GENERATED, do not edit.  The API actions of each service,",
  `-- from tencentcloud-sdk-nodejs ${version} (tests/node_modules), by`,
  "--   node tests/tools/gen_actions.js > lua/tcrun/actions.lua",
  "-- { [service] = { action, ... } }, sorted; lua/tcrun/lint.lua checks policy",
  "-- actions against it, and tests/lua/lint.t that it matches the installed SDK.",
  "return {",
];
for (const [svc, actions] of catalogue) {
  out.push(`["${svc}"]={${actions.map((a) => `"${a}"`).join(",")}},`);
}
out.push("}");
process.stdout.write(out.join("\n") + "\n");
