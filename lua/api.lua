-- api.lua: reading Tencent Cloud the way the recipes need it: every page of
-- a paginated list, waiting for asynchronous state, and finding things by
-- name or by owner tag.  Reads only; writes go through plan.lua.
-- A failed read raises (never "nothing there"): callers must not take an
-- error for an empty answer.
local tc = require "tc"

local M = {}

-- Every item of a CAM list paged with Page/Rp and TotalNum.
function M.cam_pages(action, params, field, rp)
  local items, page = {}, 1
  rp = rp or 100
  repeat
    local p = {}
    for k, v in pairs(params or {}) do p[k] = v end
    p.Page, p.Rp = page, rp
    local r = tc.call("cam", action, p)
    local list = r[field] or {}
    for _, v in ipairs(list) do items[#items + 1] = v end
    page = page + 1
  until #list < rp or #items >= (r.TotalNum or 0)
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
  until #list < limit or offset >= (r[total_field] or 0)
  return items
end

-- Calls check() until it returns a value, first at once, then after 0.25 s,
-- 0.5 s, 1 s, ... up to every `every` seconds (default 5), for at most
-- `timeout` seconds; raises "timed out ... waiting for <what>" after that.
function M.wait(what, check, timeout, every)
  local deadline = os.time() + (timeout or 600)
  local pause, cap = 0.25, every or 5
  while true do
    local v = check()
    if v ~= nil then return v end
    if os.time() >= deadline then
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

function M.policies_by_name()
  local m = {}
  for _, p in ipairs(M.cam_pages("ListPolicies", { Scope = "Local" }, "List", 200)) do
    m[p.PolicyName] = p
  end
  return m
end

-- CloudBase environments of a region, keyed by their owner tag.
function M.envs_by_owner(region)
  local m = {}
  local envs = M.offset_pages("tcb", "DescribeEnvs", {}, "EnvList", "Total", 100,
                              { region = region })
  for _, e in ipairs(envs) do
    local owner = M.tag_map(e.Tags).owner
    if owner then m[owner] = e end
  end
  return m
end

-- Lighthouse instances of a region that carry an owner tag, keyed by it.
function M.instances_by_owner(region)
  local m = {}
  local list = M.offset_pages("lighthouse", "DescribeInstances",
                              { Filters = { { Name = "tag-key", Values = { "owner" } } } },
                              "InstanceSet", "TotalCount", 100, { region = region })
  for _, i in ipairs(list) do
    local owner = M.tag_map(i.Tags).owner
    if owner then m[owner] = i end
  end
  return m
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

-- A six-segment resource name for the Tag API and policies.
function M.resource(service, region, owner, kind, id)
  return ("qcs::%s:%s:uin/%s:%s/%s"):format(service, region, owner, kind, id)
end

return M
