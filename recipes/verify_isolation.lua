-- verify_isolation.lua ROSTER [--out DIR]
-- Proves each employee's workspace is theirs alone.  For everyone with a
-- workspace it creates a temporary access key for the sub-user and, signed
-- with it, checks that (1) DescribeEnvs lists exactly their own CloudBase
-- environment, (2) an action on another employee's environment is refused
-- with an authorization error, (3) the same action on their own succeeds,
-- (4) DescribeInstances lists exactly their own Lighthouse server.
-- With one account per environment (accounts.lua), everyone on the roster
-- is also checked to (5) assume exactly the roles their line grants, in
-- the accounts of their environments, and no other; and each role they
-- can assume to do its work and nothing of CAM's.
-- The temporary key is deleted even when a check fails.  Someone whose
-- console login is off (offboarded) is listed as such, and no key is made
-- for them.  Exit status 0 only when every employee passes; the report
-- names who does not.
local recipe = require "tcrun.recipe"
local checks = require "tcrun.isolation"

-- 1. Options and the whole roster, before anything is made.
local run, code = recipe.start(arg, {
  name = "verify isolation", roster = "employees", out = "tcrun-out/verify",
  no_dry_run = "it creates temporary access keys",
  usage = "tcrun verify_isolation.lua ROSTER [--out DIR]" })
if not run then return code end

-- 2. Who has a workspace, and where: read once.
local ctx = checks.read_account(run)
local checked = run.accounts and run.rows or checks.with_workspace(run.rows)

-- 3. Everyone, concurrently, each signed with a key of their own.
run:each(function(e, _, step)
  local ws = step("workspace", checks.workspace, ctx, e)
  if ws.offboarded then return end
  local key
  step("key", function() key = checks.new_key(ws.uin) end)
  local ok, err = pcall(function()
    if e.workspace then
      step("own_listed", checks.own_listed, key, ws)
      step("other_refused", checks.other_refused, key, ws, checks.neighbour(ctx, ws))
      step("own_allowed", checks.own_allowed, key, ws)
      step("servers_listed", checks.servers_listed, key, ws)
    end
    if run.accounts then step("role_checks", checks.roles, run.accounts, key, e) end
  end)
  checks.delete_key(key)
  if not ok then error(err, 0) end
end, checked)
for _, row in ipairs(checked) do
  row.status.result = row.error and "FAIL" or row.status.workspace == "offboarded" and "offboarded"
                      or "pass"
end

-- 4. The report.
local columns = { "username", "uin", "env_id", "own_listed", "other_refused", "own_allowed",
                  "servers_listed", "result", "error" }
local shown = { "own_listed", "other_refused", "own_allowed", "servers_listed", "result" }
if run.accounts then
  table.insert(columns, 8, "role_checks")
  table.insert(columns, 9, "roles")
  table.insert(shown, 5, "role_checks")
end
return run:finish {
  rows = checked, report = ("isolation-%s.csv"):format(run.stamp), columns = columns,
  steps = shown }
