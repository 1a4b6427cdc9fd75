-- api.lua: reading Tencent Cloud the way the recipes need it: every page of
-- a paginated list, waiting for asynchronous state, and finding things by
-- name or by owner tag.  Reads only; writes go through plan.lua.
-- A failed read raises (never "nothing there"): callers must not take an
-- error for an empty answer.
local tc = require "tc"

local M = {}

-- The keys of a table (a set), sorted.
function M.sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

-- Every item of an Organization list paged with Offset/Limit (at most
-- 50), Items and Total.
function M.org_pages(action, params)
  local out, offset = {}, 0
  repeat
    local p = { Offset = offset, Limit = 50 }
    for k, v in pairs(params or {}) do p[k] = v end
    local r = tc.call("organization", action, p)
    local items = r.Items or {}
    for _, x in ipairs(items) do out[#out + 1] = x end
    offset = offset + #items
  until #items == 0 or offset >= (r.Total or 0)
  return out
end

-- Every item of a CAM list paged with Page/Rp and TotalNum; opts go to
-- tc.call (an account, say).
function M.cam_pages(action, params, field, rp, opts)
  local items, page = {}, 1
  rp = rp or 100
  repeat
    local p = {}
    for k, v in pairs(params or {}) do p[k] = v end
    p.Page, p.Rp = page, rp
    local r = tc.call("cam", action, p, opts)
    local list = r[field] or {}
    for _, v in ipairs(list) do items[#items + 1] = v end
    page = page + 1
  -- A short page does not end the list (a server may cap the page size
  -- below rp); an empty page or the total does.
  until #list == 0 or #items >= (r.TotalNum or 0)
  return items
end

-- Every item of a list paged with Offset/Limit and a total field.
function M.offset_pages(service, action, params, field, total_field, limit, opts)
  local items, offset = {}, 0
  limit = limit or 100
  repeat
    local p = {}
    for k, v in pairs(params or {}) do p[k] = v end
    p.Offset, p.Limit = offset, limit
    local r = tc.call(service, action, p, opts)
    local list = r[field] or {}
    for _, v in ipairs(list) do items[#items + 1] = v end
    offset = offset + #list
  until #list == 0 or offset >= (r[total_field] or 0)
  return items
end

-- fn(item) for every item, each in its own task (up to --parallel at
-- once); raises the first failure once all have ended.
function M.all(items, fn)
  local _, failures = tc.each(items, fn, { quiet = true })
  if #failures > 0 then error(failures[1].error, 0) end
end

-- An error as one line saying what went wrong, not where in the library
-- it surfaced (an API error's `where` is dropped).
function M.message(err)
  if type(err) == "table" and err.where then err.where = "" end
  return tostring(err)
end

-- Runs the functions given (nil ones skipped) side by side and waits for
-- all of them; raises the first failure once all have ended, the others'
-- messages with it (a string error: appended; an API error: in its field
-- `also`, which recipe.lua appends), so none goes unsaid.
function M.together(...)
  local fns = {}
  for i = 1, select("#", ...) do
    local f = select(i, ...)
    if f then fns[#fns + 1] = f end
  end
  local _, failures = tc.each(fns, function(f) f() end, { quiet = true })
  if #failures == 0 then return end
  local first, also = failures[1].error, {}
  for i = 2, #failures do also[#also + 1] = M.message(failures[i].error) end
  if #also > 0 then
    if type(first) == "table" then first.also = also
    else first = tostring(first) .. "; also: " .. table.concat(also, "; ") end
  end
  error(first, 0)
end

-- Calls check() until it returns a value, first at once, then after 0.25 s,
-- 0.5 s, 1 s, ... up to every `every` seconds (default 5), for at most
-- `timeout` seconds; raises "timed out ... waiting for <what>" after that.
function M.wait(what, check, timeout, every)
  local deadline = tc.clock() + (timeout or 600)
  local pause, cap = 0.25, every or 5
  while true do
    local v = check()
    if v ~= nil then return v end
    if tc.clock() >= deadline then
      error(("timed out after %d s waiting for %s"):format(timeout or 600, what), 0)
    end
    tc.sleep(pause)
    pause = math.min(pause * 2, cap)
  end
end

-- Tags as a map, whatever the field names ({Key, Value} or {TagKey, TagValue}).
function M.tag_map(tags)
  local m = {}
  for _, t in ipairs(tags or {}) do m[t.Key or t.TagKey] = t.Value or t.TagValue end
  return m
end

-- Whether an API error (from pcall) has this code or a sub-code of it.
function M.is_code(err, code)
  return type(err) == "table" and type(err.code) == "string"
     and (err.code == code or err.code:sub(1, #code + 1) == code .. ".")
end

-- The user named name (GetUser), or nil when CAM says it does not exist.
function M.get_user(name)
  local ok, r = pcall(tc.call, "cam", "GetUser", { Name = name })
  if ok then return r end
  if M.is_code(r, "ResourceNotFound") then return nil end
  error(r, 0)
end

-- Maps from the account's current state, read once per run.
function M.users_by_name()
  local m = {}
  for _, u in ipairs(tc.call("cam", "ListUsers").Data or {}) do m[u.Name] = u end
  return m
end

function M.groups_by_name()
  local m = {}
  for _, g in ipairs(M.cam_pages("ListGroups", {}, "GroupInfo")) do m[g.GroupName] = g end
  return m
end

function M.policies_by_name(opts)
  local m = {}
  for _, p in ipairs(M.cam_pages("ListPolicies", { Scope = "Local" }, "List", 200, opts)) do
    m[p.PolicyName] = p
  end
  return m
end

-- What tcrun made for someone carries managed-by=tcrun and the owner's
-- UIN (owner-uin): UINs are never reused, so a new hire who takes a
-- leaver's username never inherits the leaver's workspace, and a resource
-- someone else tagged "owner" is never taken for one of ours.
M.MANAGED = "tcrun"

-- Adds item to by[uin] when its tags say tcrun made it for that UIN.
local function index_managed(by, item)
  local tags = M.tag_map(item.Tags)
  if tags["managed-by"] == M.MANAGED and tags["owner-uin"] then
    local list = by[tags["owner-uin"]] or {}
    list[#list + 1] = item
    by[tags["owner-uin"]] = list
  end
end

-- CloudBase environments of a region that tcrun made: owner UIN -> list.
function M.managed_envs(region)
  local by = {}
  for _, e in ipairs(M.offset_pages("tcb", "DescribeEnvs", {}, "EnvList", "Total", 100,
                                    { region = region })) do
    index_managed(by, e)
  end
  return by
end

-- Lighthouse instances of a region that tcrun made: owner UIN -> list.
function M.managed_instances(region)
  local by = {}
  local list = M.offset_pages("lighthouse", "DescribeInstances",
                              { Filters = { { Name = "tag:managed-by", Values = { M.MANAGED } } } },
                              "InstanceSet", "TotalCount", 100, { region = region })
  for _, i in ipairs(list) do index_managed(by, i) end
  return by
end

-- The one item of a list; nil for none; raises when there are several
-- (two workspaces for one person need a human's decision).
function M.only(list, what)
  if not list or #list == 0 then return nil end
  if #list > 1 then
    error(("%d %s carry the same owner-uin tag; keep one and untag the others")
          :format(#list, what), 0)
  end
  return list[1]
end

-- Where a Lighthouse instance in a passing state is heading: STOPPING to
-- STOPPED, PENDING, STARTING and REBOOTING to RUNNING, TERMINATING to
-- gone ("TERMINATED"); any other state is where it is.
local HEADING = { STOPPING = "STOPPED", PENDING = "RUNNING", STARTING = "RUNNING",
                  REBOOTING = "RUNNING", TERMINATING = "TERMINATED" }
function M.heading(state)
  return HEADING[state] or state
end

function M.instance(id, region)
  local r = tc.call("lighthouse", "DescribeInstances", { InstanceIds = { id } },
                    { region = region })
  return (r.InstanceSet or {})[1]
end

function M.env(id, region)
  local r = tc.call("tcb", "DescribeEnvs", { EnvId = id }, { region = region })
  for _, e in ipairs(r.EnvList or {}) do
    if e.EnvId == id then return e end
  end
end

-- The root account's UIN, as a string (GetUserAppId).
function M.owner_uin()
  return tostring(tc.call("cam", "GetUserAppId").OwnerUin)
end

-- Whether v looks like a region name: ap-guangzhou, na-siliconvalley,
-- ap-shanghai-fsi (two letters, then one or two words).
function M.is_region(v)
  return type(v) == "string" and (v:find("^%l%l%-%l+$") or v:find("^%l%l%-%l+%-%l+$")) ~= nil
end

-- A six-segment resource name for the Tag API and policies.
function M.resource(service, region, owner, kind, id)
  return ("qcs::%s:%s:uin/%s:%s/%s"):format(service, region, owner, kind, id)
end

return M
