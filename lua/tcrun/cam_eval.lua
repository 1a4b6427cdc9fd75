-- cam_eval.lua: decide offline what a set of CAM policies allows.
--
--   local ev = require "tcrun.cam_eval"
--   local doc = assert(ev.parse(text_or_table))
--   local decision, why = ev.evaluate({ { doc = doc, id = 7, name = "dev", via = "user" } }, {
--     action = "tcb:ModifyEnv", resource = "qcs::tcb:ap-shanghai:uin/100000000001:env/e-1",
--     owner_uin = "100000000001", uin = "100000100002",
--     context = { ["qcs:resource_tag"] = { "env&prod" }, ["qcs:ip"] = "10.0.0.1",
--                 ["qcs:current_time"] = "2026-12-03T10:00:00Z" } })
--   -- decision: "allow" | "deny" (an explicit deny) | "none" (no allow: implicit deny)
--   -- why: { policy = <entry>, statement = <1-based index>, stmt = <statement> } (nil for "none")
--   ev.allows_any(policies, action, request) -> bool, why, decision   (list actions)
--   ev.action_matches(pattern, action), ev.resource_matches(pattern, resource, owner_uin[, vars])
--
-- The rules, from the CAM docs (element reference, resource description,
-- condition keys and operators, effective conditions, policy variables,
-- evaluation logic):
--   * An explicit deny that matches wins; otherwise a matching allow
--     allows; otherwise the request is denied ("none").
--   * action: "service:Action", "*" a wildcard anywhere ("*", "cam:*",
--     "cam:List*", "*:Describe*"); the legacy "name/" prefix is dropped.
--     Action names are case-sensitive.  "permid/..." feature sets match
--     nothing offline.
--   * resource: "*" matches everything; otherwise six segments
--     qcs:project:service:region:account:resource compared one by one with
--     "*" as a wildcard.  An empty service means every service, an empty
--     region every region, an empty account the policy owner's account
--     (uin/<owner_uin>).  An operation-level request (resource "*") is
--     matched only by the resource "*".
--   * condition: {operator: {key: value | [values]}}; every operator and
--     every key must hold (AND), any of the listed values may match (OR).
--     A key that is absent from the context (or has no values) fails the
--     operator, unless the operator ends in _if_exist (then it holds);
--     null_equal tests absence itself.  for_any_value: holds when some
--     context value passes, for_all_value: when every one does; with no
--     qualifier a positive operator holds when some value matches and a
--     negated one (*_not_*) when no value matches.
--   * policy variables ${uin} (the caller; the owner for the root account)
--     and ${owner_uin} are substituted in the last resource segment and in
--     condition values.
-- Undocumented, kept for the sandbox: date_not_greater_than (= _less_than_equal)
-- and date_not_less_than (= _greater_than_equal).
local M = {}

local unpack = table.unpack

---------------------------------------------------------------------------
-- Wildcards: "*" matches any run of bytes (also empty); nothing else is special.

local function glob(pattern, s)
  if pattern == "*" then return true end
  if not pattern:find("*", 1, true) then return pattern == s end
  local parts = {}
  local start = 1
  while true do
    local i = pattern:find("*", start, true)
    if not i then parts[#parts + 1] = pattern:sub(start); break end
    parts[#parts + 1] = pattern:sub(start, i - 1)
    start = i + 1
  end
  local first, last = parts[1], parts[#parts]
  if s:sub(1, #first) ~= first then return false end
  if #s - #first < #last then return false end
  if #last > 0 and s:sub(-#last) ~= last then return false end
  local pos, limit = #first + 1, #s - #last
  for k = 2, #parts - 1 do
    local p = parts[k]
    if #p > 0 then
      local i = s:find(p, pos, true)
      if not i or i + #p - 1 > limit then return false end
      pos = i + #p
    end
  end
  return true
end
M.glob = glob

local function as_list(v)
  if v == nil then return {} end
  if type(v) == "table" then
    if v[1] ~= nil or next(v) == nil then return v end
  end
  return { v }
end

local function is_array(t)
  return type(t) == "table" and (t[1] ~= nil or next(t) == nil)
end

local function str(v)
  if type(v) == "boolean" then return v and "true" or "false" end
  if math.type(v) == "float" and v == math.floor(v) and v > -1e15 and v < 1e15 then
    return string.format("%.1f", v)
  end
  return tostring(v)
end

---------------------------------------------------------------------------
-- Actions

local function strip_name(a)
  if type(a) == "string" and a:sub(1, 5) == "name/" then return a:sub(6) end
  return a
end

function M.action_matches(pattern, action)
  pattern = strip_name(pattern)
  action = strip_name(action)
  if type(pattern) ~= "string" or type(action) ~= "string" then return false end
  return glob(pattern, action)
end

---------------------------------------------------------------------------
-- Variables

local function subst(s, vars)
  if type(s) ~= "string" or not vars or not s:find("${", 1, true) then return s end
  return (s:gsub("%${([^}]*)}", function(name)
    local v = vars[name]
    if v ~= nil then return str(v) end
    return nil -- unknown: left as written
  end))
end

local function request_vars(request)
  local owner = request.owner_uin ~= nil and str(request.owner_uin) or nil
  local uin = request.uin ~= nil and str(request.uin) or owner
  return { uin = uin, owner_uin = owner }
end

---------------------------------------------------------------------------
-- Resources

local function split6(s)
  local out, start = {}, 1
  for _ = 1, 5 do
    local i = s:find(":", start, true)
    if not i then return nil end
    out[#out + 1] = s:sub(start, i - 1)
    start = i + 1
  end
  out[6] = s:sub(start)
  return out
end

function M.resource_matches(pattern, resource, owner_uin, vars)
  if type(pattern) ~= "string" or type(resource) ~= "string" then return false end
  if pattern == "*" then return true end
  if resource == "*" then return false end
  local ps, rs = split6(pattern), split6(resource)
  if not ps or not rs then return glob(subst(pattern, vars), resource) end
  for i = 1, 6 do
    local p, r = ps[i], rs[i]
    if i == 3 and p == "" then
      -- empty service: every service
    elseif i == 4 and p == "" then
      -- empty region: every region
    elseif i == 5 and p == "" then
      if owner_uin == nil or r ~= "uin/" .. str(owner_uin) then return false end
    else
      if i == 6 then p = subst(p, vars) end
      if not glob(p, r) then return false end
    end
  end
  return true
end

---------------------------------------------------------------------------
-- Condition values

local function parse_number(s)
  s = str(s)
  if not (s:match("^[+-]?%d+%.?%d*$") or s:match("^[+-]?%.%d+$")
          or s:match("^[+-]?%d+%.?%d*[eE][+-]?%d+$") or s:match("^[+-]?%.%d+[eE][+-]?%d+$")) then
    return nil
  end
  return tonumber(s)
end

local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local MDAYS = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }

-- ISO 8601 (extended form), UTC when no zone: seconds since the epoch, or nil.
local function parse_time(s)
  if type(s) ~= "string" then return nil end
  s = s:match("^%s*(.-)%s*$")
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > MDAYS[mo] then return nil end
  if mo == 2 and d == 29 and not (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then return nil end
  local h, mi, sec, frac, zone = 0, 0, 0, 0, ""
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, t2 = tail:match("^:(%d%d)(.*)$")
    if ss then
      sec, tail = tonumber(ss), t2
      local f, t3 = tail:match("^[%.,](%d+)(.*)$")
      if f then frac, tail = tonumber("0." .. f), t3 end
    end
    zone = tail
  end
  if h > 23 or mi > 59 or sec > 59 then return nil end
  local offset = 0
  if zone == "Z" or zone == "" then
    offset = 0
  else
    local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then
      sign, zh = zone:match("^([+-])(%d%d)$")
      zm = "00"
    end
    if not sign then return nil end
    offset = (tonumber(zh) * 3600 + tonumber(zm) * 60) * (sign == "-" and -1 or 1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec + frac - offset
end
M.parse_time = parse_time

local function ipv4(s)
  local parts = {}
  for p in (s .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = p end
  if #parts ~= 4 then return nil end
  local bytes = {}
  for i, p in ipairs(parts) do
    if not p:match("^%d+$") or #p > 3 or (#p > 1 and p:sub(1, 1) == "0") then return nil end
    local n = tonumber(p)
    if n > 255 then return nil end
    bytes[i] = n
  end
  return bytes
end

local function ipv6(s)
  if s:find("[^%x:.]") then return nil end
  local head, tail = s, nil
  local i = s:find("::", 1, true)
  if i then
    head, tail = s:sub(1, i - 1), s:sub(i + 2)
    if tail:find("::", 1, true) then return nil end
  end
  local function groups(part)
    local out = {}
    if part == "" then return out end
    local items = {}
    for g in (part .. ":"):gmatch("([^:]*):") do items[#items + 1] = g end
    for k, g in ipairs(items) do
      if k == #items and g:find(".", 1, true) then
        local b = ipv4(g)
        if not b then return nil end
        out[#out + 1] = b[1] * 256 + b[2]
        out[#out + 1] = b[3] * 256 + b[4]
      else
        if not g:match("^%x%x?%x?%x?$") then return nil end
        out[#out + 1] = tonumber(g, 16)
      end
    end
    return out
  end
  local h = groups(head)
  if not h then return nil end
  local all
  if tail == nil then
    if #h ~= 8 then return nil end
    all = h
  else
    local t = groups(tail)
    if not t or #h + #t > 7 then return nil end
    all = {}
    for _, g in ipairs(h) do all[#all + 1] = g end
    for _ = 1, 8 - #h - #t do all[#all + 1] = 0 end
    for _, g in ipairs(t) do all[#all + 1] = g end
  end
  local bytes = {}
  for _, g in ipairs(all) do
    bytes[#bytes + 1] = g // 256
    bytes[#bytes + 1] = g % 256
  end
  return bytes
end

local function parse_ip(s)
  if type(s) ~= "string" then return nil end
  if s:find(":", 1, true) then return ipv6(s) end
  return ipv4(s)
end

-- Whether address a lies in network w ("10.0.0.0/8", or one address).
local function ip_in(a, w)
  local addr = parse_ip(str(a))
  if not addr then return false end
  w = str(w)
  local base, bits = w:match("^([^/]+)/(%d+)$")
  if not base then base = w end
  local net = parse_ip(base)
  if not net or #net ~= #addr then return false end
  bits = bits and tonumber(bits) or #net * 8
  if bits > #net * 8 then return false end
  for k = 1, #net do
    local keep = bits >= 8 and 8 or (bits > 0 and bits or 0)
    bits = bits - keep
    local mask = (0xFF << (8 - keep)) & 0xFF
    if (addr[k] & mask) ~= (net[k] & mask) then return false end
  end
  return true
end
M.ip_in = ip_in

-- Base operators: a test of one context value against one policy value.
local function cmp_num(f)
  return function(a, b)
    local x, y = parse_number(a), parse_number(b)
    return x ~= nil and y ~= nil and f(x, y)
  end
end
local function cmp_date(f)
  return function(a, b)
    local x, y = parse_time(str(a)), parse_time(str(b))
    return x ~= nil and y ~= nil and f(x, y)
  end
end
local eq = function(x, y) return x == y end
local lt = function(x, y) return x < y end
local le = function(x, y) return x <= y end
local gt = function(x, y) return x > y end
local ge = function(x, y) return x >= y end

-- name -> { test, negated }: a negated operator is "not (any value matches test)".
local OPS = {
  string_equal = { function(a, b) return str(a) == str(b) end },
  string_not_equal = { function(a, b) return str(a) == str(b) end, true },
  string_equal_ignore_case = { function(a, b) return str(a):lower() == str(b):lower() end },
  string_not_equal_ignore_case = { function(a, b) return str(a):lower() == str(b):lower() end, true },
  string_like = { function(a, b) return glob(str(b), str(a)) end },
  string_not_like = { function(a, b) return glob(str(b), str(a)) end, true },
  numeric_equal = { cmp_num(eq) },
  numeric_not_equal = { cmp_num(eq), true },
  numeric_less_than = { cmp_num(lt) },
  numeric_less_than_equal = { cmp_num(le) },
  numeric_greater_than = { cmp_num(gt) },
  numeric_greater_than_equal = { cmp_num(ge) },
  date_equal = { cmp_date(eq) },
  date_not_equal = { cmp_date(eq), true },
  date_less_than = { cmp_date(lt) },
  date_less_than_equal = { cmp_date(le) },
  date_greater_than = { cmp_date(gt) },
  date_greater_than_equal = { cmp_date(ge) },
  date_not_greater_than = { cmp_date(le) },
  date_not_less_than = { cmp_date(ge) },
  bool_equal = { function(a, b) return str(a):lower() == str(b):lower() end },
  binary_equal = { function(a, b) return str(a) == str(b) end },
  ip_equal = { ip_in },
  ip_not_equal = { ip_in, true },
  null_equal = { false },
}
M.OPERATORS = {}
for k in pairs(OPS) do M.OPERATORS[#M.OPERATORS + 1] = k end
table.sort(M.OPERATORS)

-- "for_any_value:string_equal_if_exist" -> { qualifier =, base =, if_exist = } (or nil, why)
local function split_op(name)
  if type(name) ~= "string" then return nil, "condition operator is not a string" end
  local qual, base = name:match("^([%w_]+):(.+)$")
  if not qual then base = name end
  if qual and qual ~= "for_any_value" and qual ~= "for_all_value" then
    return nil, ("unknown condition qualifier %q"):format(qual)
  end
  local if_exist = false
  if base:sub(-9) == "_if_exist" then
    base, if_exist = base:sub(1, -10), true
  end
  if not OPS[base] then return nil, ("unknown condition operator %q"):format(name) end
  if base == "null_equal" and if_exist then
    return nil, "null_equal takes no _if_exist suffix"
  end
  return { qualifier = qual, base = base, if_exist = if_exist }
end
M.split_op = split_op

---------------------------------------------------------------------------
-- Parsing

local function decode(text)
  local json = require "tcrun.json"
  local ok, doc, err = pcall(json.decode, text)
  if not ok then return nil, tostring(doc) end
  if doc == nil then return nil, err or "not JSON" end
  return doc
end

local function is_null(v)
  if v == nil then return true end
  local ok, json = pcall(require, "tcrun.json")
  return ok and v == json.null
end

function M.parse(doc)
  if type(doc) == "string" then
    local d, err = decode(doc)
    if d == nil then return nil, "policy document is not valid JSON: " .. tostring(err) end
    doc = d
  end
  if type(doc) ~= "table" or (is_array(doc) and next(doc) ~= nil) then
    return nil, "policy document must be a JSON object"
  end
  if doc.version ~= nil and str(doc.version) ~= "2.0" then
    return nil, ('policy version must be "2.0", not %s'):format(str(doc.version))
  end
  local stmts = doc.statement
  if type(stmts) ~= "table" then return nil, "policy needs a statement list" end
  if not is_array(stmts) then stmts = { stmts } end
  if #stmts == 0 then return nil, "policy needs a non-empty statement list" end
  local out = {}
  for i, s in ipairs(stmts) do
    if type(s) ~= "table" or is_array(s) then
      return nil, ("statement %d is not an object"):format(i)
    end
    local effect = type(s.effect) == "string" and s.effect:lower() or nil
    if effect ~= "allow" and effect ~= "deny" then
      return nil, ('statement %d: effect must be "allow" or "deny"'):format(i)
    end
    local actions = {}
    for _, a in ipairs(as_list(s.action)) do
      if type(a) ~= "string" then return nil, ("statement %d: action must be strings"):format(i) end
      actions[#actions + 1] = strip_name(a)
    end
    if #actions == 0 then return nil, ("statement %d: action is required"):format(i) end
    local resources = {}
    for _, r in ipairs(as_list(s.resource)) do
      if type(r) ~= "string" then return nil, ("statement %d: resource must be strings"):format(i) end
      resources[#resources + 1] = r
    end
    if #resources == 0 then return nil, ("statement %d: resource is required"):format(i) end
    local conds = {}
    local cond = s.condition
    if not is_null(cond) then
      if type(cond) ~= "table" then return nil, ("statement %d: condition must be an object"):format(i) end
      local names = {}
      for op in pairs(cond) do names[#names + 1] = op end
      table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
      for _, op in ipairs(names) do
        local body = cond[op]
        local sp, why = split_op(op)
        if not sp then return nil, ("statement %d: %s"):format(i, why) end
        if type(body) ~= "table" or (is_array(body) and next(body) ~= nil) then
          return nil, ("statement %d: condition %s must map keys to values"):format(i, op)
        end
        local keys = {}
        for key, vals in pairs(body) do
          local list = {}
          for _, v in ipairs(as_list(vals)) do
            if type(v) == "table" then
              return nil, ("statement %d: condition %s %s: values must be scalars"):format(i, op, key)
            end
            list[#list + 1] = v
          end
          keys[#keys + 1] = { key = key, values = list }
        end
        table.sort(keys, function(a, b) return tostring(a.key) < tostring(b.key) end)
        conds[#conds + 1] = { op = op, qualifier = sp.qualifier, base = sp.base, if_exist = sp.if_exist,
                             keys = keys }
      end
    end
    out[i] = { effect = effect, action = actions, resource = resources,
               condition = (not is_null(cond)) and cond or nil, conditions = conds,
               principal = s.principal }
  end
  return { version = "2.0", statement = out, parsed = true }
end

---------------------------------------------------------------------------
-- Context

local TAG_KEYS = { ["qcs:resource_tag"] = true, ["qcs:request_tag"] = true, ["qcs:tag"] = true }

-- The context values of key: a list of strings, or nil when absent or empty.
local function context_values(context, key)
  local v = context and context[key]
  if is_null(v) then return nil end
  local out = {}
  if type(v) == "table" then
    if is_array(v) then
      for _, x in ipairs(v) do if not is_null(x) then out[#out + 1] = str(x) end end
    else
      for k, x in pairs(v) do
        if TAG_KEYS[key] then out[#out + 1] = str(k) .. "&" .. str(x)
        else out[#out + 1] = str(x) end
      end
      table.sort(out)
    end
  else
    out[1] = str(v)
  end
  if #out == 0 then return nil end
  return out
end
M.context_values = context_values

-- possible: nil to decide; else a key absent from the context is unknown
-- (the caller's IP at some future call, say), and the condition is taken
-- as holding for an allow (possible = "allow": it might) and as failing
-- for a deny (possible = "deny": it might not protect).
local function condition_holds(conds, context, vars, possible, known)
  for _, c in ipairs(conds) do
    local test, neg = unpack(OPS[c.base])
    for _, kv in ipairs(c.keys) do
      local wanted = {}
      for k, w in ipairs(kv.values) do wanted[k] = subst(w, vars) end
      local values = context_values(context, kv.key)
      if possible and values == nil and not (known and known[kv.key]) then
        if possible == "deny" then return false end
      elseif c.base == "null_equal" then
        local isnull = values == nil and "true" or "false"
        local hit = false
        for _, w in ipairs(wanted) do
          if str(w):lower() == isnull then hit = true; break end
        end
        if not hit then return false end
      elseif values == nil then
        if not c.if_exist then return false end
      else
        local function hit(v)
          for _, w in ipairs(wanted) do
            if test(v, w) then return true end
          end
          return false
        end
        local ok
        if c.qualifier == "for_all_value" then
          ok = true
          for _, v in ipairs(values) do
            local pass = hit(v)
            if neg then pass = not pass end
            if not pass then ok = false; break end
          end
        elseif c.qualifier == "for_any_value" then
          ok = false
          for _, v in ipairs(values) do
            local pass = hit(v)
            if neg then pass = not pass end
            if pass then ok = true; break end
          end
        else
          local any = false
          for _, v in ipairs(values) do
            if hit(v) then any = true; break end
          end
          ok = (neg and not any) or (not neg and any)
        end
        if not ok then return false end
      end
    end
  end
  return true
end

---------------------------------------------------------------------------
-- Evaluation

local function doc_of(entry)
  local doc = entry.doc
  if doc == nil and entry.statement then doc = entry end
  if type(doc) == "string" or (type(doc) == "table" and not doc.parsed) then
    local d, err = M.parse(doc)
    if not d then error(("policy %s: %s"):format(tostring(entry.name or entry.id), err), 0) end
    entry.doc = d
    doc = d
  end
  return doc
end

local function any_action(st, action)
  for _, p in ipairs(st.action) do
    if M.action_matches(p, action) then return true end
  end
  return false
end

local function any_resource(st, resource, owner, vars)
  for _, p in ipairs(st.resource) do
    if M.resource_matches(p, resource, owner, vars) then return true end
  end
  return false
end

-- request.possible = true asks "could this ever be allowed?" for a review:
-- a condition on a key the context lacks may hold for an allow and may not
-- hold for a deny (see condition_holds), except for the keys of
-- request.known (a set), whose absence from the context is a fact.
function M.evaluate(policies, request)
  local action, resource = request.action, request.resource or "*"
  local owner = request.owner_uin ~= nil and str(request.owner_uin) or nil
  local vars = request_vars(request)
  local ctx = request.context or {}
  local allow
  for _, entry in ipairs(policies or {}) do
    local doc = doc_of(entry)
    for i, st in ipairs(doc.statement) do
      if any_action(st, action) and any_resource(st, resource, owner, vars)
          and condition_holds(st.conditions, ctx, vars, request.possible and st.effect or nil,
                              request.known) then
        local why = { policy = entry, statement = i, stmt = st }
        if st.effect == "deny" then return "deny", why end
        allow = allow or why
      end
    end
  end
  if allow then return "allow", allow end
  return "none", nil
end

-- A list action ("could any resource be allowed?"), as the sandbox decides
-- it: an unconditional deny on "*" refuses; otherwise any allow of the
-- action (whatever its resource or condition) lets the list run, and the
-- items are then filtered one by one with evaluate().
function M.allows_any(policies, action, request)
  if type(action) == "table" and request == nil then
    request, action = action, action.action
  end
  request = request or {}
  local allow
  for _, entry in ipairs(policies or {}) do
    local doc = doc_of(entry)
    for i, st in ipairs(doc.statement) do
      if any_action(st, action) then
        local why = { policy = entry, statement = i, stmt = st }
        if st.effect == "deny" then
          local star = false
          for _, r in ipairs(st.resource) do if r == "*" then star = true end end
          if star and #st.conditions == 0 then return false, why, "deny" end
        else
          allow = allow or why
        end
      end
    end
  end
  if allow then return true, allow, "allow" end
  return false, nil, "none"
end

M.condition_holds = function(stmt_or_conds, context, request)
  local conds = stmt_or_conds.conditions or stmt_or_conds
  return condition_holds(conds, context, request and request_vars(request) or nil)
end

return M
