-- permission_review.lua ROSTER [--out DIR] [--accept FILE] [--fix] [--since DAYS]
--                      [--stale-days N] [--rotation-days N] [--burst N]
-- The nightly review: reads every account tcrun manages (the hub and, with
-- accounts.lua, every environment's account), joins it with the roster,
-- and writes DIR/review.json, DIR/review.csv and DIR/review.html, one
-- finding per problem (see README "permission_review.lua").  Read-only;
-- --fix makes the safe remediations only (deactivate unused keys, console
-- login off for orphans, detach expired grants), journaled, and planned
-- under --dry-run.  Exit status: 0 no finding, 1 findings, 2 usage or
-- configuration, 3 a read failed (never reported as "no access").
local tc = require "tc"
local recipe = require "tcrun.recipe"
local reviews = require "tcrun.reviews"

-- 1. Options, roster, units, accounts; one run at a time.
local run, code = recipe.start(arg, {
  name = "permission review", roster = "employees", out = "tcrun-out/review",
  out_help = "folder for review.json, review.csv and review.html",
  usage = "tcrun [--dry-run] permission_review.lua ROSTER [options]",
  options = {
    accept = { value = true, metavar = "FILE",
               help = "accepted findings: CSV of id, owner, ticket, expires (YYYY-MM-DD)" },
    fix = { help = "make the safe remediations (keys off, orphans' login off, expired grants off)" },
    since = { value = true, count = true, metavar = "DAYS",
              help = "CloudAudit window for denials and CAM changes (default 1)" },
    ["stale-days"] = { value = true, count = true, metavar = "N",
                       help = "logins and keys unused this long are stale (default 90)" },
    ["rotation-days"] = { value = true, count = true, metavar = "N",
                          help = "keys older than this are due for rotation (default 180)" },
    burst = { value = true, count = true, metavar = "N",
              help = "authorization failures by one principal that make a burst (default 10)" } } })
if not run then return code end
local ok, err = tc.lock(tc.state_dir .. "/permission_review.lock")
if not ok then
  local mk = tc.mkdir(tc.state_dir)
  if mk then ok, err = tc.lock(tc.state_dir .. "/permission_review.lock") end
  if not ok then tc.config_error("permission review: lock " .. err) end
end
local opts = reviews.options(run)

-- 2. Every account, read once, and judged.  A failed read ends the run
--    (exit 3) without a review: never "no access" from a read that failed.
local done, world, active, held = pcall(function()
  local w = reviews.read_world(run, opts)
  return w, reviews.judge(run, w, opts)
end)
if not done then return reviews.failed(run, world) end

-- 3. The safe remediations, when asked; then the outputs.
if run.opts.fix then reviews.fix(run, world, active) end
reviews.write(run, world, opts, active, held)
return reviews.finish(run, active, held)
