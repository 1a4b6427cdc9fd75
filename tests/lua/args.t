#!/usr/bin/env tcrun
-- args.lua: flags, values in both spellings, numbers, positionals, errors, usage.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local args = require "tcrun.args"

local spec = {
  "roster",
  out = { value = true, default = "tcrun-out", help = "folder for reports" },
  destroy = { help = "terminate servers and destroy environments" },
  ["retain-days"] = { value = true, number = true, default = 30 },
  parallel = { value = true, number = true, metavar = "JOBS" },
}

-- name, argv, expected opts (as "k=v" sorted), expected positionals
local function show(opts)
  local keys, out = {}, {}
  for k in pairs(opts) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. tostring(opts[k]) end
  return table.concat(out, " ")
end
local good = {
  { "defaults", { "r.csv" },
    "destroy=false out=tcrun-out retain-days=30", "r.csv" },
  { "--name value", { "--out", "/tmp/o", "r.csv" },
    "destroy=false out=/tmp/o retain-days=30", "r.csv" },
  { "--name=value, after the positional", { "r.csv", "--out=a=b" },
    "destroy=false out=a=b retain-days=30", "r.csv" },
  { "flag and numbers", { "--destroy", "--retain-days", "7", "--parallel=2.5", "r.csv" },
    "destroy=true out=tcrun-out parallel=2.5 retain-days=7", "r.csv" },
  { "negative number as a value", { "--retain-days", "-1", "r.csv" },
    "destroy=false out=tcrun-out retain-days=-1", "r.csv" },
  { "empty value with =", { "--out=", "r.csv" },
    "destroy=false out= retain-days=30", "r.csv" },
  { "last one wins", { "--out", "a", "--out", "b", "r.csv" },
    "destroy=false out=b retain-days=30", "r.csv" },
  { "-- ends options", { "--", "--destroy" },
    "destroy=false out=tcrun-out retain-days=30", "--destroy" },
  { "a lone - is a positional", { "-" },
    "destroy=false out=tcrun-out retain-days=30", "-" },
}
for _, c in ipairs(good) do
  local opts, pos = args.parse(c[2], spec)
  t.is(opts and show(opts), c[3], c[1] .. ": options")
  t.is(pos and table.concat(pos, " "), c[4], c[1] .. ": positionals")
end

local opts = args.parse({ "--retain-days=7", "r.csv" }, spec)
t.is(opts["retain-days"], 7, "numbers are numbers (integer 7)")

-- name, argv, exact message
local bad = {
  { "unknown option", { "--x", "r.csv" }, "unknown option '--x'" },
  { "a tcrun option after the script", { "r.csv", "--dry-run" },
    "'--dry-run' is an option of tcrun itself: put it before the recipe (tcrun --dry-run RECIPE ...)" },
  { "unknown option with =", { "--dry-rum=1", "r.csv" }, "unknown option '--dry-rum'" },
  { "not a number", { "--retain-days", "ten", "r.csv" }, "--retain-days needs a number" },
  { "not a number with =", { "--retain-days=", "r.csv" }, "--retain-days needs a number" },
  { "value missing at the end", { "r.csv", "--out" }, "--out needs a value" },
  { "value missing before an option", { "--out", "--destroy", "r.csv" }, "--out needs a value" },
  { "flag given a value", { "--destroy=yes", "r.csv" }, "--destroy takes no value" },
  { "missing positional", { "--destroy" }, "missing argument <roster>" },
  { "extra positional", { "a.csv", "b.csv" }, "unexpected argument 'b.csv'" },
}
for _, c in ipairs(bad) do
  local o, err = args.parse(c[2], spec)
  t.is(o, nil, c[1] .. ": nil")
  t.is(err, c[3], c[1] .. ": message")
end

t.is(args.usage(spec), table.concat({
  "usage: [options] <roster>",
  "options:",
  "  --destroy              terminate servers and destroy environments",
  "  --out VALUE            folder for reports (default: tcrun-out)",
  "  --parallel JOBS",
  "  --retain-days N        (default: 30)",
  "" }, "\n"), "usage lists options sorted, with metavars and defaults")
t.like(args.usage({}, "tcrun offboard.lua [options] leavers.csv"),
       "^usage: tcrun offboard%.lua %[options%] leavers%.csv\n$", "usage with a synopsis")

t.done()
