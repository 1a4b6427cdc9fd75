-- offboard.lua LEAVERS [--destroy] [--purge-expired] [--retain-days N]
--              [--delete-user] [--out DIR]
-- Takes access away from everyone on the list, access first: console
-- login off and access keys deactivated, then policies detached and groups
-- left (with one account per environment, leaving the groups is what
-- stops them assuming roles; sessions already issued last until they end,
-- which the run says).  Their workspace is then, by default, stopped and
-- kept, tagged offboarded=<date> and retain-until=<date + N days> (one
-- Tag API call for both); --destroy isolates
-- and terminates the server and destroys the environment at once;
-- --purge-expired destroys retained workspaces past their date;
-- --delete-user deletes the sub-user at the end (keys first).  Destructive
-- steps happen only when asked.  Only username is required in the list.
local recipe = require "tcrun.recipe"
local steps = require "tcrun.offboarding"

-- 1. Options and the whole list, before any write.
local run, code = recipe.start(arg, {
  name = "offboard", roster = "leavers", out = "tcrun-out/offboard",
  usage = "tcrun [--dry-run] offboard.lua LEAVERS [options]",
  options = {
    destroy = { help = "terminate servers and destroy environments now" },
    ["purge-expired"] = { help = "destroy retained workspaces past their retain-until date" },
    ["retain-days"] = { value = true, count = true,
                        help = "days a stopped workspace is kept (default: retain_days "
                               .. "of the business-unit defaults)" },
    ["delete-user"] = { help = "delete the sub-users at the end" } } })
if not run then return code end
local opts = run.opts
local retention = { destroy = opts.destroy, purge_expired = opts["purge-expired"],
                    retain_days = opts["retain-days"] or run.units.defaults.retain_days }

-- 2. Read the account once; the deletion quota is shared by all rows.
local ctx = steps.read_account(run, opts.destroy or opts["purge-expired"])

-- 3. Every leaver, concurrently: access first, the user last.
run:each(function(e, _, step)
  local user = step("access", steps.access, ctx, e)
  step("permissions", steps.permissions, ctx, e, user)
  local found = step("workspace", steps.find_workspace, ctx, e, user)
  step("server", steps.servers, ctx, e, found.workspace, retention)
  step("environment", steps.environments, ctx, e, found.workspace, retention)
  step("retention", steps.retention_tags, ctx, e, found.workspace, retention)
  if opts["delete-user"] then step("user", steps.delete_user, ctx, e, user) end
end)

-- With one account per environment, nobody can assume a role any more;
-- a role session issued before this run lasts until it ends.
if run.accounts and not run.plan.dry_run then
  local most, where = run.accounts:longest_session()
  tc.log(("role sessions issued before this run stay valid until they end: at most %d minutes "
          .. "(the longest maximum session of the tcrun-<role> roles, %s; role_session_seconds "
          .. "in accounts.lua)"):format(most // 60, where or "none found"))
end

-- 4. The plan, or the report.
return run:finish {
  report = ("offboard-%s.csv"):format(run.stamp),
  columns = { "username", "uin", "env_id", "instance_id", "access", "permissions",
              "server", "environment", "retention", "user", "error" },
  steps = { "access", "permissions", "server", "environment", "retention", "user" } }
