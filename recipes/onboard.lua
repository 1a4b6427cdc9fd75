-- onboard.lua ROSTER [--out DIR]
-- Gives every employee on the roster an isolated AI workspace in
-- "sub-account mode": a CAM sub-user in the groups of their environments
-- and role (admins and prod operators logging in with MFA), and
-- (workspace=yes) their own CloudBase environment, a
-- Lighthouse server with the AI assistant installed through TAT, and a
-- personal policy limiting them to both.  Idempotent and resumable: it
-- reads first and writes only what is missing.  With tcrun --dry-run it
-- prints every write it would make and makes none.
local api = require "tcrun.api"
local recipe = require "tcrun.recipe"
local steps = require "tcrun.onboarding"

-- 1. Options, the whole roster and every business unit it names, and the
--    output folder, before any write.
local run, code = recipe.start(arg, {
  name = "onboard", roster = "employees", out = "tcrun-out/onboard",
  out_help = "folder for the report and the initial passwords",
  usage = "tcrun [--dry-run] onboard.lua ROSTER [--out DIR]" })
if not run then return code end

-- 2. Read the account once; check it has room for everyone (CAM's
--    sub-users, CloudBase's environments); make the role groups the roster
--    needs, in shards of CAM's 100 members; find who cannot join more
--    groups (CAM's 10 a user): they fail first, with nothing made.
local ctx = steps.read_account(run)
steps.limits(ctx, run.rows)
steps.groups(ctx, run.rows)
steps.rooms(ctx, run.rows)

-- 3. Every employee, concurrently; one failure does not stop the others.
--    Within one, each step starts once what it needs exists: the server
--    (the slowest write, 5 a second) right after the user.
run:each(function(e, unit, step)
  step("groups", steps.check_room, ctx, e)
  local user = step("user", steps.user, ctx, e, unit)
  step("user", steps.hook, unit, "after_user", e, steps.workspace_api(ctx, e, unit))
  local env, server
  api.together(
    function()
      step("groups", steps.membership, ctx, e, unit, user)
      step("mfa", steps.mfa, ctx, e, user)
    end,
    e.workspace and function() env = step("environment", steps.environment, ctx, e, unit, user) end,
    e.workspace and function() server = step("server", steps.server, ctx, e, unit, user) end)
  if not e.workspace then return end
  api.together(
    function() step("policy", steps.workspace_policy, ctx, e, unit, user, env, server) end,
    function() step("assistant", steps.assistant, ctx, e, unit, env, server) end)
  step("assistant", steps.hook, unit, "after_workspace", e,
       steps.workspace_api(ctx, e, unit, env, server))
end)

-- 4. Passwords go only to a 0600 file; then the ledger says they arrived.
local passwords, err = steps.deliver_passwords(ctx, run.opts.out, run.stamp)
if passwords then print("initial passwords (reset at first login): " .. passwords) end
if err then run:fail(err) end

-- 5. The plan, or the report.
return run:finish {
  report = ("onboard-%s.csv"):format(run.stamp),
  columns = { "username", "uin", "role_groups", "env_id", "instance_id", "user", "groups", "mfa",
              "environment", "server", "policy", "assistant", "error" },
  steps = { "user", "groups", "mfa", "environment", "server", "policy", "assistant" } }
