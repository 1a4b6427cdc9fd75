-- policy_rollout.lua [--stage STAGE] [--approve TICKET] [--rollback]
--                   [--only ROLE|POLICY] [--settle SECONDS]
-- Rolls the role templates (policies/role-<role>.json) out to the role
-- policies, stage by stage: dev, test, staging, prod, and then the
-- personal workspace policies (stage workspaces, from
-- policies/workspace.json, checked offline against workspace.intents).
-- Before any write every rendered template is linted and checked offline
-- against its intents (policies/<template>.intents): a problem anywhere
-- stops the run with nothing written (exit 2).  Per stage it prints a plan
-- (a semantic diff against the live default version: nothing changed,
-- nothing written), makes each changed template the default version (the
-- oldest non-default version goes when CAM's five are full), waits
-- --settle seconds for CAM to apply it (default 60), then checks the
-- intents live with a probe identity holding exactly the policy.  A failed
-- live check rolls the stage back to its previous default versions and
-- stops the run (exit 1).  Prod and workspaces need --approve TICKET:
-- without it the run stops after staging (exit 1) saying what they would
-- get.  --rollback makes the latest earlier version that meets today's
-- intents the default again, and undoes that if the live check fails;
-- prod and workspaces again need --approve.  --dry-run prints the plan.
local tc = require "tc"
local api = require "tcrun.api"
local recipe = require "tcrun.recipe"
local rollout = require "tcrun.rollout"
local probes = require "tcrun.probes"

-- 1. Options and configuration.
local run, code = recipe.start(arg, {
  name = "policy rollout", out = false,
  usage = "tcrun [--dry-run] policy_rollout.lua [--stage STAGE] [--approve TICKET] [--rollback] "
          .. "[--only ROLE] [--settle SECONDS]",
  options = {
    stage = { value = true, metavar = "STAGE",
              help = "only this stage: dev, test, staging, prod or workspaces (the personal policies)" },
    approve = { value = true, metavar = "TICKET", help = "the change ticket that approves prod and workspaces" },
    rollback = { help = "make the previous version that meets the intents the default again" },
    only = { value = true, metavar = "ROLE", help = "only this role (viewer...), workspace, or a policy name" },
    settle = { value = true, count = true, metavar = "SECONDS",
               help = "how long CAM may take to apply a change before the live check (default 60)" } } })
if not run then return code end
local o = run.opts
local settle = o.settle or 60
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
local GATED = { prod = true, workspaces = true }

-- 2. Every stage's templates rendered, linted and checked offline against
--    their intents, before any write.
local all, problems, seen = {}, {}, {}
for _, env in ipairs(stages) do
  local targets, p
  if env == "workspaces" then
    targets, p = rollout.workspace_targets(run, o.only)
  else
    targets, p = rollout.targets(run, env, o.only)
  end
  all[env] = targets
  for _, t in ipairs(targets) do
    if t.doc and t.intents then
      local c = rollout.verify_offline(t, t.doc)
      if c then
        p[#p + 1] = ("%s for %s breaks its intent %q (%s:%d)"):format(t.name, env, c.text, t.intents.path, c.line)
      end
    end
  end
  for _, x in ipairs(p) do
    if not seen[x] then seen[x] = true; problems[#problems + 1] = x end
  end
end
if #problems > 0 then
  io.stderr:write("tcrun: policy rollout: nothing written:\n")
  for _, p in ipairs(problems) do io.stderr:write("  ", tc.printable(p), "\n") end
  return 2
end

-- One line on stdout, terminal-safe: names and documents come from the
-- API (a live policy, a holder's name).
local function say(fmt, ...) io.stdout:write(tc.printable(fmt:format(...)), "\n") end

-- The live checks of the policies a stage changed: the probe identities
-- made, CAM given time to apply the change, then each policy's intents
-- (they all held offline before any write).  The failed target and
-- intent, or nil.
local function check_live(targets)
  local live = {}
  for _, t in ipairs(targets) do
    if #rollout.live_checks(t) > 0 then
      live[#live + 1] = t
    else
      say("  %s: %d intent(s) hold (offline; none can be checked live)", t.name, #t.intents.checks)
    end
  end
  if #live == 0 then return nil end
  local ids = {}
  for _, t in ipairs(live) do ids[t] = probes.identity(run, t) end
  local function close()
    for _, id in pairs(ids) do id.close() end
  end
  local ok, bad_t, bad_c = pcall(function()
    say("  waiting %d s for CAM to apply the change (--settle)", settle)
    tc.sleep(settle)
    for _, t in ipairs(live) do
      local c = rollout.verify_live(t, ids[t].opts)
      if c then return t, c end
      say("  %s: %d intent(s) hold (%d checked live)", t.name, #t.intents.checks, #rollout.live_checks(t))
    end
  end)
  close()
  if not ok then error(bad_t, 0) end
  return bad_t, bad_c
end

local function needs_approval(env, what)
  if GATED[env] and not o.approve then
    io.stderr:write(("tcrun: policy rollout: %s of %s needs --approve TICKET; stopped\n"):format(what, env))
    return true
  end
end

-- 3a. Rollback: the latest earlier version that meets today's intents.
if o.rollback then
  for i = #stages, 1, -1 do
    local env = stages[i]
    if #all[env] > 0 then
      if needs_approval(env, "a rollback") then return 1 end
      say("stage %s (rollback):", env)
      local changed = {}
      for _, t in ipairs(all[env]) do
        rollout.read(t)
        local prev = not t.missing and rollout.previous_good(t)
        if t.missing or not prev then
          say("  %s: %s", t.name, t.missing and "absent" or "no earlier version meets the intents: left as it is")
        else
          say("  %s: version %d -> %d", t.name, t.default, prev)
          rollout.restore(run.plan, t, prev, "rollback" .. (o.approve and (", ticket " .. o.approve) or ""))
          t.previous = t.default
          changed[#changed + 1] = t
        end
      end
      if not run.plan.dry_run and #changed > 0 then
        local t, c = check_live(changed)
        if t then
          for _, x in ipairs(changed) do
            rollout.restore(run.plan, x, x.previous, "rollback undone: " .. c.text)
            say("  %s: back on version %d", x.name, x.previous)
          end
          say("FAILED %s: %s after rollback: %q (live, %s:%d); the rollback is undone", env, t.name, c.text,
              t.intents.path, c.line)
          return 1
        end
      end
    end
  end
  if run.plan.dry_run then run.plan:print() end
  return 0
end

-- 3b. Stage by stage.
for _, env in ipairs(stages) do
  if #all[env] > 0 then
    local gated = GATED[env] and not o.approve
    say("stage %s%s:%s", env, run.accounts and env ~= "workspaces" and (" (account " .. all[env][1].owner .. ")") or "",
        gated and " needs --approve TICKET; it would do:" or "")
    local changed = {}
    for _, t in ipairs(all[env]) do
      rollout.read(t)
      if t.missing then
        say("  %s: absent (onboarding or setup_accounts.lua makes it when needed)", t.name)
      else
        local lines, differs = rollout.diff(t.live, t.doc)
        say("  %s: %s", t.name, differs and ("update (default version %d -> new)"):format(t.default) or "no change")
        for _, l in ipairs(lines) do say("%s", l) end
        if differs then t.previous = t.default; changed[#changed + 1] = t end
      end
    end
    if gated then
      io.stderr:write(("tcrun: policy rollout: stopped before %s: no --approve TICKET\n"):format(env))
      return 1
    end
    for _, t in ipairs(changed) do rollout.write(run.plan, t, o.approve) end
    if not run.plan.dry_run and #changed > 0 then
      local t, c = check_live(changed)
      if t then
        say("FAILED %s: %s breaks the intent %q (live, %s:%d)", env, t.name, c.text, t.intents.path, c.line)
        for _, x in ipairs(changed) do
          say("  %s: rolled back to version %d", x.name, x.previous)
          rollout.restore(run.plan, x, x.previous, "intent failed: " .. c.text)
        end
        io.stderr:write(("tcrun: policy rollout: stopped at %s: intent failed; later stages untouched\n")
                        :format(env))
        return 1
      end
    end
  end
end
if run.plan.dry_run then run.plan:print() end
return 0
