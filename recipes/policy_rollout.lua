-- policy_rollout.lua [--stage dev|test|staging|prod] [--approve TICKET]
--                   [--rollback] [--only ROLE|POLICY]
-- Rolls the role templates (policies/role-<role>.json) out to the role
-- policies, stage by stage: dev, test, staging, prod, and then the
-- personal workspace policies (stage workspaces, from
-- policies/workspace.json, checked offline against workspace.intents).  Before any write
-- every rendered template is linted and every intent file read; per stage
-- it prints a plan (a semantic diff against the live default version:
-- nothing changed, nothing written), makes each changed template the
-- default version (the oldest non-default version goes when CAM's five
-- are full), then verifies the role's intents (policies/role-<role>.intents)
-- offline and live with a probe identity holding exactly the policy.  A
-- failed intent rolls the stage back to its previous default versions and
-- stops the run (exit 1).  Prod needs --approve TICKET: without it the run
-- stops after staging (exit 1) saying what prod would get.  --rollback
-- makes the previous default version the default again (prod first when
-- no --stage), verified the same way.  --dry-run prints the plan per
-- stage and writes nothing.
local tc = require "tc"
local api = require "tcrun.api"
local recipe = require "tcrun.recipe"
local rollout = require "tcrun.rollout"
local probes = require "tcrun.probes"

-- 1. Options and configuration.
local run, code = recipe.start(arg, {
  name = "policy rollout", out = false,
  usage = "tcrun [--dry-run] policy_rollout.lua [--stage STAGE] [--approve TICKET] [--rollback] "
          .. "[--only ROLE]",
  options = {
    stage = { value = true, metavar = "STAGE",
              help = "only this stage: dev, test, staging, prod or workspaces (the personal policies)" },
    approve = { value = true, metavar = "TICKET", help = "the change ticket that approves prod" },
    rollback = { help = "make the previous default version the default again" },
    only = { value = true, metavar = "ROLE", help = "only this role (viewer...) or policy name" } } })
if not run then return code end
local o = run.opts
local stages = {}
for _, s in ipairs(rollout.STAGES) do
  if not o.stage or o.stage == s then stages[#stages + 1] = s end
end
if #stages == 0 then
  tc.config_error(("--stage %s: not one of dev, test, staging, prod, workspaces"):format(o.stage))
end
if o.approve and not o.approve:find("^[%w][%w._/:#-]*$") then
  tc.config_error("--approve wants a ticket id (letters, digits and ._/:#-)")
end
run.owner_uin = run.accounts and run.accounts.cfg.hub or api.owner_uin()

-- 2. Every stage's templates rendered, linted, with their intents, before
--    any write.
local all, problems = {}, {}
for _, env in ipairs(stages) do
  local targets, p
  if env == "workspaces" then
    targets, p = rollout.workspace_targets(run, o.only)
  else
    targets, p = rollout.targets(run, env, o.only)
  end
  all[env] = targets
  for _, x in ipairs(p) do problems[#problems + 1] = x end
end
if #problems > 0 then
  io.stderr:write("tcrun: policy rollout: nothing written:\n")
  for _, p in ipairs(problems) do io.stderr:write("  ", tc.printable(p), "\n") end
  return 2
end

local function say(fmt, ...) io.stdout:write(fmt:format(...), "\n") end

-- Verifies every target of a stage; the failed intent and where, or nil.
local function verify(env)
  for _, t in ipairs(all[env]) do
    if not t.missing then
      local c, how = rollout.verify_offline(t, t.applied or t.live)
      if not c then
        local id = probes.identity(run, t)
        local ok, bad, where = pcall(rollout.verify_live, t, id.opts)
        id.close()
        if not ok then error(bad, 0) end
        c, how = bad, where
      end
      if c then return t, c, how end
      say("  %s: %d intent(s) hold (%d checked live)", t.name, #t.intents.checks, #rollout.live_checks(t))
    end
  end
end

-- 3a. Rollback.
if o.rollback then
  for i = #stages, 1, -1 do
    local env = stages[i]
    say("stage %s (rollback):", env)
    for _, t in ipairs(all[env]) do
      rollout.read(t)
      local prev
      for _, v in ipairs(t.versions or {}) do
        if t.default and v.VersionId < t.default then prev = v.VersionId end
      end
      if t.missing or not prev then
        say("  %s: %s", t.name, t.missing and "absent" or "no earlier version: left as it is")
      else
        say("  %s: version %d -> %d", t.name, t.default, prev)
        rollout.restore(run.plan, t, prev, "rollback" .. (o.approve and (", ticket " .. o.approve) or ""))
        if not run.plan.dry_run then
          local doc = tc.call("cam", "GetPolicyVersion", { PolicyId = t.policy_id, VersionId = prev },
                              t.account and { account = t.account } or nil).PolicyVersion.Document
          t.applied = doc
        end
      end
    end
    if not run.plan.dry_run then
      local t, c, how = verify(env)
      if t then
        say("FAILED %s: %s after rollback: %s (%s:%d)", env, t.name, c.text, how, c.line)
        return 1
      end
    end
  end
  if run.plan.dry_run then run.plan:print() end
  return 0
end

-- 3b. Stage by stage.
for _, env in ipairs(stages) do
  if (env == "prod" or env == "workspaces") and not o.approve then
    say("stage %s: needs --approve TICKET; it would do:", env)
    for _, t in ipairs(all[env]) do
      rollout.read(t)
      local lines, changed = rollout.diff(t.live, t.doc)
      say("  %s: %s", t.name, t.missing and "absent" or changed and "update" or "no change")
      if not t.missing then
        for _, l in ipairs(lines) do say("%s", l) end
      end
    end
    io.stderr:write(("tcrun: policy rollout: stopped before %s: no --approve TICKET\n"):format(env))
    return 1
  end
  say("stage %s%s:", env, run.accounts and all[env][1] and (" (account " .. all[env][1].owner .. ")") or "")
  local changed_targets = {}
  for _, t in ipairs(all[env]) do
    rollout.read(t)
    if t.missing then
      say("  %s: absent (onboarding or setup_accounts.lua makes it when needed)", t.name)
    else
      local lines, changed = rollout.diff(t.live, t.doc)
      if changed then
        say("  %s: update (default version %d -> new)", t.name, t.default)
        for _, l in ipairs(lines) do say("%s", l) end
        t.previous = t.default
        changed_targets[#changed_targets + 1] = t
      else
        say("  %s: no change", t.name)
      end
    end
  end
  if not run.plan.dry_run then
    for _, t in ipairs(changed_targets) do
      rollout.write(run.plan, t, o.approve)
      t.applied = t.doc
    end
    local t, c, how = verify(env)
    if t then
      say("FAILED %s: %s breaks the intent %q (%s, %s:%d)", env, t.name, c.text, how,
          t.role == "workspace" and "policies/workspace.intents" or ("policies/role-" .. t.role .. ".intents"),
          c.line)
      for _, x in ipairs(changed_targets) do
        say("  %s: rolled back to version %d", x.name, x.previous)
        rollout.restore(run.plan, x, x.previous, "intent failed: " .. c.text)
      end
      io.stderr:write(("tcrun: policy rollout: stopped at %s: intent failed; later stages untouched\n")
                      :format(env))
      return 1
    end
  end
end
if run.plan.dry_run then run.plan:print() end
return 0
