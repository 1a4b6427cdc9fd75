-- setup_accounts.lua [--out DIR]
-- Checks and sets up one account per environment (accounts.lua in the
-- configuration folder; see README "One account per environment").  With
-- Tencent Cloud Organization: members missing from it are created (and
-- waited for) in a node per environment, tagged environment=<env>; the
-- guardrail policy (policies/guardrails.json) is attached to those nodes;
-- members made earlier get the tags too.
-- In every environment's account: the roles tcrun-<role> that the hub's
-- groups may assume, trusting the hub, with the permissions of
-- policies/role-<role>.json and a short maximum session.  Idempotent:
-- a second run writes nothing.  --dry-run prints the plan, account by
-- account.  A failure is reported per account; the others go on.
local recipe = require "tcrun.recipe"
local steps = require "tcrun.spokes"

-- 1. Options and the configuration, every account checked, before any write.
local run, code = recipe.start(arg, {
  name = "setup accounts", accounts = "setup", out = "tcrun-out/accounts",
  usage = "tcrun [--dry-run] setup_accounts.lua [--out DIR]" })
if not run then return code end
if not run.accounts then
  io.stderr:write("tcrun: setup_accounts.lua: no accounts.lua in the configuration folder "
                  .. "(tcrun --config DIR): tcrun works in one account; nothing to set up\n")
  return 2
end

-- 2. The Organization, read once; the guardrails are shared by all.
local ctx = steps.read_org(run)
steps.guardrails(ctx)

-- 3. Every environment's account, concurrently.
local rows = {}
for _, s in ipairs(run.accounts.order) do
  rows[#rows + 1] = { line = 0, employee = { username = s.env }, status = {},
                      facts = { environment = s.env } }
end
run:each(function(e, _, step)
  local s = run.accounts.spokes[e.username]
  step("member", steps.member, ctx, s)
  step("node", steps.place, ctx, s)
  step("tags", steps.tag, ctx, s)
  step("enter", steps.enter, ctx, s)
  step("roles", steps.roles, ctx, s)
end, rows)

-- 4. The plan, or the report.
return run:finish {
  rows = rows, report = ("accounts-%s.csv"):format(run.stamp), title = "setup accounts",
  noun = "account",
  columns = { "environment", "uin", "member", "node", "tags", "enter", "roles", "error" },
  steps = { "member", "node", "tags", "enter", "roles" } }
