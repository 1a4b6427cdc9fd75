-- who_can.lua ACTION RESOURCE [--tag KEY=VALUE]
-- Who can do ACTION (service:Action) on RESOURCE (a six-segment resource,
-- qcs::service:region:uin/ACCOUNT:type/id, or *), answered offline from
-- the accounts' CAM policies (the hub, and every environment's account
-- with accounts.lua): each user, group member and role allowed, through
-- which policy and statement; in an environment's account, also the hub's
-- people who may assume a role that is allowed.  --tag gives the
-- resource's tags for qcs:resource_tag conditions; a statement whose
-- condition rests on what cannot be known offline (the caller's IP) is
-- listed with that condition.  Reads only.
local tc = require "tc"
local iam = require "tcrun.iam"
local recipe = require "tcrun.recipe"
local whocan = require "tcrun.whocan"

local run, code = recipe.start(arg, {
  name = "who can", positionals = { "action", "resource" }, out = false,
  usage = "tcrun who_can.lua ACTION RESOURCE [--tag KEY=VALUE]",
  options = { tag = { value = true, metavar = "KEY=VALUE",
                      help = "a tag of the resource, for qcs:resource_tag conditions" } } })
if not run then return code end
local action, resource = run.pos[1], run.pos[2]
if not action:find("^[%w_-]+:[%w*]+$") then
  tc.config_error(("who_can: %q is not an action like cam:ListUsers"):format(action))
end
if resource ~= "*" and not resource:find("^qcs:[^:]*:[^:]*:[^:]*:[^:]*:.+$") then
  tc.config_error(("who_can: %q is not a six-segment resource like "
                   .. "qcs::cam::uin/100000000001:uin/100000100002, or *"):format(resource))
end
local context = {}
if run.opts.tag then
  local k, v = run.opts.tag:match("^([^=]+)=(.*)$")
  if not k then tc.config_error("--tag wants KEY=VALUE") end
  context["qcs:resource_tag"] = { k .. "&" .. v }
end

local world = { accounts = {} }
world.hub = iam.read({ name = run.accounts and "hub" or "account", policies_only = true,
                       uin = run.accounts and run.accounts.cfg.hub or require("tcrun.api").owner_uin() })
if run.accounts then
  world.spokes = {}
  for _, s in ipairs(run.accounts.order) do
    world.spokes[s.env] = iam.read({ name = s.env, uin = s.uin, account = s.account,
                                     policies_only = true })
  end
end
local answer = whocan.answer(world, action, resource, context)
io.stdout:write(("who can %s on %s: %d (besides each account's root, which always can)\n")
                :format(action, resource, #answer))
for _, a in ipairs(answer) do
  io.stdout:write(("  %-24s %-18s %s, policy %s statement %d (%s)%s\n"):format(
    tc.printable(a.principal), a.kind, a.account, tc.printable(a.policy or "?"), a.statement or 0,
    tc.printable(a.via), a.condition and ("  if " .. tc.printable(a.condition)) or ""))
end
return 0
