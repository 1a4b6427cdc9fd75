-- onboard.lua ROSTER [--out DIR]
-- Gives every employee on the roster an isolated AI workspace in
-- "sub-account mode": a CAM sub-user in the groups of their environments
-- and role, and (workspace=yes) their own CloudBase environment, a
-- Lighthouse server with the AI assistant installed through TAT, and a
-- personal policy limiting them to both.  Idempotent and resumable: it
-- reads first and writes only what is missing.  With tcrun --dry-run it
-- prints every write it would make and makes none.
local tc = require "tc"
local args = require "args"
local bu = require "bu"
local plan = require "plan"
local progress = require "progress"
local report = require "report"
local roster = require "roster"
local state = require "state"
local steps = require "onboarding"
local csv = require "tcrun.csv"

local spec = { "roster", out = { value = true, default = "tcrun-out/onboard", metavar = "DIR",
                                  help = "folder for the summary, passwords and state" } }
local opts, pos = args.cli(arg, spec, "tcrun [--dry-run] onboard.lua ROSTER [--out DIR]")
if not opts then return pos end

-- 1. The whole roster, and every business unit it names, before any write.
local rows, problems = roster.load(pos[1], roster.ONBOARD)
if not rows or #problems > 0 then
  io.stderr:write(roster.format_problems(problems), "\n")
  return 2
end
local settings_for = assert(bu.loader(arg[0]:match("^(.*)/") .. "/bu"))
local regions, groups, seen, unit_problems = { env = {}, server = {} }, {}, {}, {}
local function offered(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
end
for _, e in ipairs(rows) do
  local s, err = settings_for(e.business_unit)
  if not s then io.stderr:write("tcrun: ", err, "\n") return 2 end
  if e.workspace then regions.env[s.env_region], regions.server[s.server_region] = true, true end
  if not offered(s.roles, e.role) then
    unit_problems[#unit_problems + 1] = ("%s:%d: role '%s' is not one business unit '%s' offers")
      :format(pos[1], e.line, e.role, e.business_unit)
  end
  for _, env in ipairs(e.environments) do
    if not offered(s.environments, env) then
      unit_problems[#unit_problems + 1] = ("%s:%d: environment '%s' is not one business unit '%s' "
        .. "offers"):format(pos[1], e.line, env, e.business_unit)
    end
    local g = env .. "-" .. e.role
    if not seen[g] then seen[g] = true; groups[#groups + 1] = g end
  end
end
if #unit_problems > 0 then
  io.stderr:write(roster.format_problems(unit_problems), "\n")
  return 2
end
table.sort(groups)

-- 2. Read the account once; make the role groups the roster needs.
if not tc.dry_run then assert(tc.mkdir(opts.out)) end
local ctx = { plan = plan.new(tc.dry_run), home = tc.home, passwords = {},
              state = assert(state.open(opts.out .. "/onboard-state.jsonl", tc.dry_run)) }
steps.prefetch(ctx, regions)
steps.groups(ctx, groups)

-- 3. Every employee, concurrently; one failure does not stop the others.
local bar = progress.new(#rows, "onboard")
local order = { "user", "groups", "environment", "server", "policy", "assistant" }
local _, failures = tc.each(rows, function(e)
  local s = settings_for(e.business_unit)
  local function step(name, fn)
    e.failed_step = name
    e[name] = fn(ctx, e, s)
  end
  -- What a business unit's hooks may do for this employee.
  local hook_api = { ensure_tags = function(tags) steps.ensure_tags(ctx, e, s, tags) end }
  step("user", steps.user)
  if s.hooks.after_user then step("user", function() s.hooks.after_user(e, hook_api) return e.user end) end
  step("groups", steps.membership)
  if e.workspace then
    step("environment", steps.environment)
    step("server", steps.server)
    step("policy", steps.workspace_policy)
    step("assistant", steps.assistant)
    if s.hooks.after_workspace then
      step("assistant", function() s.hooks.after_workspace(e, hook_api) return e.assistant end)
    end
  end
  e.failed_step = nil
  bar:step(e.username, true)
end, { quiet = true })
for _, f in ipairs(failures) do
  f.row.error = tostring(f.error)
  f.row[f.row.failed_step or "user"] = "failed"
  bar:step(f.row.username, false, f.row.error)
end

-- 4. Passwords go only to a 0600 file; then the state says they arrived.
if #ctx.passwords > 0 then
  table.sort(ctx.passwords, function(a, b) return a.username < b.username end)
  local path = ("%s/passwords-%s.csv"):format(opts.out, os.date("!%Y%m%dT%H%M%SZ"))
  local w = assert(csv.create(path, { "username", "uin", "password" }, { mode = "0600" }))
  for _, p in ipairs(ctx.passwords) do w:write(p) end
  assert(w:close())
  for _, p in ipairs(ctx.passwords) do
    ctx.state:append({ event = "password-delivered", username = p.username, file = path })
  end
  tc.log(("initial passwords (reset at first login): %s"):format(path))
end

-- 5. Report.
if tc.dry_run then
  local names = { "(groups)" }
  for _, e in ipairs(rows) do names[#names + 1] = e.username end
  ctx.plan:print(names)
else
  local columns = { "username", "uin", "env_id", "instance_id", "user", "groups",
                    "environment", "server", "policy", "assistant", "error" }
  assert(report.csv(opts.out .. "/onboard-summary.csv", columns, rows))
  tc.log("summary: " .. opts.out .. "/onboard-summary.csv")
end
report.screen(tc.dry_run and "onboard (dry run)" or "onboard", rows, order)
return #failures == 0
