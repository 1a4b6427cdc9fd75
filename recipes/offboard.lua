-- offboard.lua LEAVERS [--destroy] [--purge-expired] [--retain-days N]
--              [--delete-user] [--out DIR]
-- Takes access away from everyone on the list, access first: console
-- login off and access keys deactivated, then policies detached and groups
-- left.  Their workspace is then, by default, stopped and kept, tagged
-- offboarded=<date> and retain-until=<date + N days>; --destroy isolates
-- and terminates the server and destroys the environment at once;
-- --purge-expired destroys retained workspaces past their date;
-- --delete-user deletes the sub-user at the end (keys first).  Destructive
-- steps happen only when asked.  Only username is required in the list.
local tc = require "tc"
local api = require "api"
local args = require "args"
local bu = require "bu"
local plan = require "plan"
local progress = require "progress"
local report = require "report"
local roster = require "roster"
local steps = require "offboarding"

local spec = { "leavers",
  destroy = { help = "terminate servers and destroy environments now" },
  ["purge-expired"] = { help = "destroy retained workspaces past their retain-until date" },
  ["retain-days"] = { value = true, number = true,
                      help = "days a stopped workspace is kept (default: retain_days "
                             .. "of recipes/bu/default.lua)" },
  ["delete-user"] = { help = "delete the sub-users at the end" },
  out = { value = true, default = "tcrun-out/offboard", metavar = "DIR",
          help = "folder for the summary" } }
local opts, pos = args.cli(arg, spec, "tcrun [--dry-run] offboard.lua LEAVERS [options]")
if not opts then return pos end
opts["retain-days"] = opts["retain-days"]
  or assert(bu.loader(arg[0]:match("^(.*)/") .. "/bu"))("default").retain_days
if opts["retain-days"] < 0 or opts["retain-days"] % 1 ~= 0 then
  io.stderr:write("tcrun: --retain-days needs a whole number of days\n")
  return 2
end

-- 1. The whole list before any write.
local rows, problems = roster.load(pos[1], roster.OFFBOARD)
if not rows or #problems > 0 then
  io.stderr:write(roster.format_problems(problems), "\n")
  return 2
end

-- 2. Read the account once; the deletion quota is shared by all rows.
local ctx = { plan = plan.new(tc.dry_run), now = os.time(), users = api.users_by_name(),
              policies = api.policies_by_name(), delete_budget = 0 }
if opts.destroy or opts["purge-expired"] then
  local limit = tc.call("tcb", "DescribeEnvLimit")
  local function left(max, used)
    -- A limit the API leaves out is unknown: destroy nothing on a guess.
    return (max and used) and max - used or 0
  end
  ctx.delete_budget = math.min(left(limit.MaxDeleteMonthly, limit.CurrentDeleteMonthly),
                               left(limit.MaxDeleteTotal, limit.CurrentDeleteTotal))
  tc.log(("CloudBase deletions left this month: %d"):format(ctx.delete_budget))
end
local ws_opts = { destroy = opts.destroy, purge_expired = opts["purge-expired"],
                  retain_days = opts["retain-days"] }

-- 3. Every leaver, concurrently: access first, the user last.
local bar = progress.new(#rows, "offboard")
local _, failures = tc.each(rows, function(e)
  e.failed_step = "access"
  e.access = steps.access(ctx, e)
  e.failed_step = "permissions"
  e.permissions = steps.permissions(ctx, e)
  e.failed_step = "workspace"
  steps.workspace(ctx, e, ws_opts)
  if opts["delete-user"] then
    e.failed_step = "user"
    e.user = steps.delete_user(ctx, e)
  end
  e.failed_step = nil
  bar:step(e.username, true)
end, { quiet = true })
for _, f in ipairs(failures) do
  f.row.error = tostring(f.error)
  bar:step(f.row.username, false, f.row.error)
end

-- 4. Report.
local order = { "access", "permissions", "server", "environment", "user" }
if tc.dry_run then
  local names = {}
  for _, e in ipairs(rows) do names[#names + 1] = e.username end
  ctx.plan:print(names)
else
  assert(tc.mkdir(opts.out))
  local path = ("%s/offboard-%s.csv"):format(opts.out, os.date("!%Y%m%dT%H%M%SZ", ctx.now))
  assert(report.csv(path, { "username", "uin", "env_id", "instance_id", "access",
                            "permissions", "server", "environment", "user", "error" }, rows))
  tc.log("summary: " .. path)
end
report.screen(tc.dry_run and "offboard (dry run)" or "offboard", rows, order)
return #failures == 0
