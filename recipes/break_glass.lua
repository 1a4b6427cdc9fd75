-- break_glass.lua grant USER --hours N --reason TEXT --ticket ID [--env ENV --role ROLE]
--                 revoke USER
--                 list
-- Time-boxed emergency access.  grant attaches to the sub-user USER a new
-- policy tcrun-bg-<user>-<time> rendered from policies/break-glass.json,
-- operator rights on the resources tagged environment=ENV (default prod)
-- (with one account per environment: policies/break-glass-assume.json,
-- which lets them assume tcrun-ROLE, default operator, in ENV's account,
-- default prod), every statement of which ends by itself through
-- date_less_than on qcs:current_time: CAM refuses after the end even if
-- nobody revokes it.  The policy's description and tags record who
-- granted it, to whom, until when, for which ticket and why; the journal
-- too.  At most break_glass_max_hours of the business-unit defaults.
-- revoke detaches every grant of USER now; list shows every grant, active
-- or expired, and who still holds it.  The permission review reports an
-- expired grant still attached.
local tc = require "tc"
local api = require "tcrun.api"
local plan = require "tcrun.plan"
local policy = require "tcrun.policy"
local recipe = require "tcrun.recipe"
local review = require "tcrun.review"

local USAGE = "tcrun [--dry-run] break_glass.lua grant USER --hours N --reason TEXT --ticket ID "
              .. "[--env ENV] [--role ROLE] | revoke USER | list"
local cmd = arg[1]
local rest = { [0] = arg[0] }
for i = 2, #arg do rest[#rest + 1] = arg[i] end
local SPECS = {
  grant = { positionals = { "user" }, options = {
    hours = { value = true, count = true, metavar = "N", help = "how long, in hours" },
    reason = { value = true, metavar = "TEXT", help = "why (recorded)" },
    ticket = { value = true, metavar = "ID", help = "the incident or change ticket (recorded)" },
    env = { value = true, metavar = "ENV",
            help = "the environment: its tagged resources, or with accounts per environment its account (default prod)" },
    role = { value = true, metavar = "ROLE", help = "with accounts per environment: which role (default operator)" } } },
  revoke = { positionals = { "user" }, options = {
    reason = { value = true, metavar = "TEXT", help = "why (recorded in the journal)" },
    ticket = { value = true, metavar = "ID", help = "the ticket (recorded in the journal)" } } },
  list = {},
}
if cmd == "--help" or cmd == "-h" then
  io.stdout:write("usage: ", USAGE, "\n")
  return 0
end
local spec = SPECS[cmd]
if not spec then
  io.stderr:write(("tcrun: break_glass.lua: %s\nusage: %s\n"):format(
    cmd and ("unknown command %q (grant, revoke or list)"):format(cmd) or "a command is needed", USAGE))
  return 2
end
spec.name, spec.out, spec.usage = "break glass " .. cmd, false, USAGE
local run, code = recipe.start(rest, spec)
if not run then return code end
local o = run.opts
local PREFIX = "tcrun-bg-"

-- One line on stdout, terminal-safe: names and documents come from the
-- API (a live policy, a holder's name).
local function say(fmt, ...) io.stdout:write(tc.printable(fmt:format(...)), "\n") end

-- Every break-glass grant: { id, name, description, ends, holders }.
local function grants()
  local out = {}
  for _, p in ipairs(api.cam_pages("ListPolicies", { Scope = "Local", Keyword = PREFIX }, "List", 200)) do
    if p.PolicyName:sub(1, #PREFIX) == PREFIX then
      local doc = require("tcrun.json").decode(tc.call("cam", "GetPolicy", { PolicyId = p.PolicyId }).PolicyDocument)
      local holders = {}
      for _, e in ipairs(api.cam_pages("ListEntitiesForPolicy", { PolicyId = p.PolicyId }, "List")) do
        holders[#holders + 1] = e.Name
      end
      out[#out + 1] = { id = p.PolicyId, name = p.PolicyName, description = p.Description,
                        ends = type(doc) == "table" and review.grant_end(doc), holders = holders }
    end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

if cmd == "list" then
  local now = os.time()
  local list = grants()
  say("break-glass grants: %d (active or expired by this machine's clock)", #list)
  for _, g in ipairs(list) do
    say("  %-8s %s  until %s  held by %s  (%s)", not g.ends and "?" or g.ends <= now and "expired"
          or #g.holders == 0 and "revoked" or "active",
        g.name, g.ends and os.date("!%Y-%m-%dT%H:%M:%SZ", g.ends) or "?",
        #g.holders > 0 and table.concat(g.holders, ", ") or "nobody",
        g.description or "")
  end
  return 0
end

local user = api.get_user(run.pos[1])
local name = run.pos[1]
if not user then tc.config_error(("break_glass.lua: no sub-user %q"):format(name)) end

if cmd == "revoke" then
  local n = 0
  for _, p in ipairs(api.cam_pages("ListAttachedUserPolicies", { TargetUin = user.Uin }, "List")) do
    if p.PolicyName:sub(1, #PREFIX) == PREFIX then
      run.plan:write(name, "cam", "DetachUserPolicy", { PolicyId = p.PolicyId, DetachUin = user.Uin },
                     { note = ("break glass revoked: %s%s%s"):format(p.PolicyName,
                       o.ticket and (", ticket " .. o.ticket) or "", o.reason and (": " .. o.reason) or "") })
      n = n + 1
    end
  end
  if run.plan.dry_run then run.plan:print() end
  say("%s: %d grant(s) %s", name, n, run.plan.dry_run and "would be revoked" or "revoked")
  return 0
end

-- grant
local max = run.units.defaults.break_glass_max_hours
local problems = {}
if not o.hours or o.hours < 1 or o.hours > max then
  problems[#problems + 1] = ("--hours from 1 to %d (break_glass_max_hours) is needed"):format(max)
end
if not o.reason or #o.reason < 8 then problems[#problems + 1] = "--reason TEXT (at least 8 characters) is needed" end
if not o.ticket or not o.ticket:find("^[%w][%w._/:#-]*$") then
  problems[#problems + 1] = "--ticket ID (letters, digits and ._/:#-) is needed"
end
if user.ConsoleLogin == 0 then problems[#problems + 1] = name .. " has console login off (offboarded?)" end
if #problems > 0 then tc.config_error("break_glass.lua grant: " .. table.concat(problems, "; ")) end

local now = os.time()
local ends = now + o.hours * 3600
local until_ = os.date("!%Y-%m-%dT%H:%M:%SZ", ends)
local doc, err
if run.accounts then
  local env, role = o.env or "prod", o.role or "operator"
  local s = run.accounts.spokes[env]
  if not s then tc.config_error(("break_glass.lua: environment %q has no account in accounts.lua"):format(env)) end
  doc, err = policy.render(policy.path("break-glass-assume.json"),
                           { account_uin = s.uin, role = role, ["until"] = until_ })
else
  local env = o.env or "prod"
  if not env:find("^%l+$") then tc.config_error("break_glass.lua: --env wants an environment like prod") end
  doc, err = policy.render(policy.path("break-glass.json"), { ["until"] = until_, environment = env })
end
if not doc then tc.config_error(err) end
local granter = tostring(tc.call("cam", "GetUserAppId").Uin)
local pname = ("%s%s-%s"):format(PREFIX, name, os.date("!%Y%m%dT%H%M%SZ", now)):sub(1, 128)
local why = ("tcrun break glass for %s until %s, by %s, ticket %s: %s"):format(name, until_, granter,
                                                                             o.ticket, o.reason)
local r = run.plan:write(name, "cam", "CreatePolicy", {
  PolicyName = pname, PolicyDocument = doc, Description = why:sub(1, 300),
  Tags = { { Key = "managed-by", Value = api.MANAGED }, { Key = "break-glass-for", Value = name },
           { Key = "granted-by", Value = granter }, { Key = "ticket", Value = o.ticket:sub(1, 255) },
           { Key = "until", Value = until_ } } },
  { idempotent = false, note = why:sub(1, 480) })
run.plan:write(name, "cam", "AttachUserPolicy", { PolicyId = r and r.PolicyId or plan.planned("policy " .. pname),
                                                  AttachUin = user.Uin },
               { note = ("break glass %s for %s, ticket %s"):format(pname, name, o.ticket) })
if run.plan.dry_run then run.plan:print() end
say("%s: %s %s until %s (%d h), ticket %s", name, pname, run.plan.dry_run and "would be granted" or "granted",
    until_, o.hours, o.ticket)
return 0
