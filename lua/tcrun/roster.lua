-- roster.lua: load an employee roster CSV and validate every row before
-- anything is written.  roster.load(path, spec) -> rows, problems: rows are
-- the valid records, each { line = N, employee = { column = value } } with
-- known columns normalised and extra columns kept as-is under their own
-- names, and problems are "path:LINE: message" strings in line order.
-- Known columns are checked wherever they appear; spec.required says which
-- must be there.
-- Does not: call the cloud, check business units (units.lua does), or
-- decide what to do about problems (recipes refuse to write).
local tc = require "tc"
local csv = require "tcrun.csv"

local concat, sort, insert = table.concat, table.sort, table.insert
local utf8_len, utf8_offset, charpattern = utf8.len, utf8.offset, utf8.charpattern
local fmt = string.format

local M = {}

M.ONBOARD = {
  required = { "username", "display_name", "email", "phone", "business_unit",
               "role", "environments", "cost_center" },
  defaults = { workspace = "yes" },
}
M.OFFBOARD = { required = { "username" } }

M.ROLES = { "viewer", "developer", "operator", "admin" }

-- Whether employee e must log in with MFA: admins, and operators in prod.
function M.needs_mfa(e)
  if e.role == "admin" then return true end
  if e.role ~= "operator" then return false end
  for _, env in ipairs(e.environments) do
    if env == "prod" then return true end
  end
  return false
end
M.ENVIRONMENTS = { "dev", "test", "staging", "prod" }

local role_ok, env_rank = {}, {}
for _, r in ipairs(M.ROLES) do role_ok[r] = true end
for i, e in ipairs(M.ENVIRONMENTS) do env_rank[e] = i end

-- The longest field a roster may hold, in bytes, checked before anything
-- else looks at it.
M.MAX_FIELD = 4096

-- s without leading and trailing white space, in linear time (the pattern
-- "^%s*(.-)%s*$" backtracks: minutes on 80 KB of inner spaces).
local function trim(s)
  local i = s:find("%S")
  if not i then return "" end
  local j = #s
  while true do
    local b = s:byte(j)
    if b ~= 32 and (b < 9 or b > 13) then break end
    j = j - 1
  end
  return s:sub(i, j)
end

-- A value quoted for a message: control characters escaped, long ones cut.
local function show(v)
  v = v:gsub("[%c']", function(c)
    if c == "'" then return "\\'" end
    return fmt("\\x%02x", c:byte())
  end)
  if utf8_len(v) and utf8_len(v) > 40 then
    v = v:sub(1, utf8_offset(v, 41) - 1) .. "..."
  end
  return "'" .. v .. "'"
end

-- Field checks: each takes the trimmed value and returns the normalised
-- value, nil and a message when it is bad, or nil alone for "no value".
local check = {}

function check.username(v)
  if v == "" then return nil, "empty username" end
  local at = v:find("[^A-Za-z0-9+=,.@_-]")
  if at then
    return nil, fmt("invalid character %s in username %s (allowed: letters, digits and +=,.@_-)",
                    show(v:match(charpattern, at)), show(v))
  end
  if #v > 64 then
    return nil, fmt("username %s is %d characters, longer than 64", show(v), #v)
  end
  return v
end

function check.display_name(v)
  if v == "" then return nil, "empty display_name" end
  if v:find("%c") then
    return nil, fmt("display_name %s has a control character (line break, tab...)", show(v))
  end
  local n = utf8_len(v)
  if n > 64 then
    return nil, fmt("display_name %s is %d characters, longer than 64", show(v), n)
  end
  return v
end

function check.email(v)
  local why
  local user, domain = v:match("^([^@]*)@([^@]*)$")
  if v == "" then return nil, "empty email"
  elseif #v > 254 then why = "longer than 254 characters"
  elseif v:find("%s") then why = "contains a space"
  elseif not user then why = "needs exactly one @"
  elseif user == "" then why = "nothing before the @"
  elseif v:find("%c") then why = "contains a control character"
  elseif not domain:find("^[^.]+%.[^.]") or domain:find("%.%.") or domain:find("%.$") then
    why = "domain " .. show(domain) .. " is not like example.com"
  end
  if why then return nil, fmt("invalid email %s: %s", show(v), why) end
  return v
end

-- Optional +, then 6-20 digits; spaces and dashes allowed and dropped.
-- Empty means no phone: the field is left out of the row.
function check.phone(v)
  if v == "" then return nil end
  local plus, rest = v:match("^(%+?)(.*)$")
  local digits = rest:gsub("[ -]", "")
  if not digits:find("^%d+$") or #digits < 6 or #digits > 20 then
    return nil, fmt("invalid phone %s (expected an optional + and 6-20 digits, spaces or dashes)",
                    show(v))
  end
  return plus .. digits
end

function check.business_unit(v)
  if v == "" then return nil, "empty business_unit" end
  if not v:find("^[a-z0-9_-]+$") then
    return nil, fmt("invalid business_unit %s (allowed: a-z, 0-9, _ and -)", show(v))
  end
  return v
end

function check.role(v)
  if v == "" then return nil, "empty role" end
  if not role_ok[v] then
    return nil, fmt("unknown role %s (expected viewer, developer, operator or admin)", show(v))
  end
  return v
end

-- "prod; dev" -> {"dev", "prod"}: known names, no repeats, canonical order.
function check.environments(v)
  if v == "" then return nil, "empty environments" end
  local seen, list = {}, {}
  for item in (v .. ";"):gmatch("(.-);") do
    item = trim(item)
    if item == "" then
      return nil, fmt("empty item in environments %s", show(v))
    elseif not env_rank[item] then
      return nil, fmt("unknown environment %s in environments %s (expected dev, test, staging or prod)",
                      show(item), show(v))
    elseif seen[item] then
      return nil, fmt("duplicate environment %s in environments %s", show(item), show(v))
    end
    seen[item] = true
    list[#list + 1] = item
  end
  sort(list, function(a, b) return env_rank[a] < env_rank[b] end)
  return list
end

function check.cost_center(v)
  if v == "" then return nil, "empty cost_center" end
  return v
end

function check.workspace(v)
  local l = v:lower()
  if l == "" or l == "yes" then return true end
  if l == "no" then return false end
  return nil, fmt("invalid workspace %s (expected yes or no)", show(v))
end

-- Known columns in the order their problems are reported within a row.
local FIELDS = { "username", "display_name", "email", "phone", "business_unit",
                 "role", "environments", "cost_center", "workspace" }
M.COLUMNS = {}
for _, name in ipairs(FIELDS) do M.COLUMNS[name] = true end

-- {line, n, text} entries -> their texts by line, then by n (a stable
-- sort: a row's problems keep the order they were found in).
local function in_line_order(entries)
  sort(entries, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    return a.n < b.n
  end)
  for i, p in ipairs(entries) do entries[i] = p.text end
  return entries
end

-- The line number of a "path:LINE: message" text (0 when it has none).
local function line_of(path, text)
  return tonumber(text:sub(#path + 2):match("^(%d+):")) or 0
end

-- rows, problems; or nil, {"path: reason"} when the file cannot be read.
function M.load(path, spec)
  local reader, err = csv.open(path)
  if not reader then return nil, { err } end
  local found = {}
  for _, name in ipairs(reader:header()) do found[name] = true end

  local problems, rows, first_line = {}, {}, {}
  local function problem(line, msg)
    problems[#problems + 1] = { line = line, n = #problems + 1,
                                text = fmt("%s:%d: %s", path, line, msg) }
  end
  for _, name in ipairs(spec.required) do
    if not found[name] then problem(1, fmt("missing required column '%s'", name)) end
  end

  while true do
    local rec, line = reader:next()
    if rec == nil then break end
    if rec == false then
      problems[#problems + 1] = { line = line_of(path, line), n = #problems + 1, text = line }
    else
      local row, bad, oversized = {}, false, {}
      local names = {}
      for k in pairs(rec) do names[#names + 1] = k end
      sort(names)
      for _, k in ipairs(names) do
        local v = rec[k]
        if #v > M.MAX_FIELD then
          problem(line, fmt("column %s is %d bytes, longer than %d", show(k), #v, M.MAX_FIELD))
          bad, oversized[k] = true, true
        end
        row[k] = v
      end
      for _, name in ipairs(FIELDS) do
        local v = rec[name] or (spec.defaults and spec.defaults[name])
        if v and not oversized[name] then
          local val, msg = check[name](trim(v))
          if msg then problem(line, msg); bad = true end
          row[name] = val
        end
      end
      local key = row.username and row.username:lower()
      if key and first_line[key] then
        problem(line, fmt("duplicate username %s (first on line %d)",
                          show(row.username), first_line[key]))
        bad = true
      elseif key then
        first_line[key] = line
      end
      if not bad then rows[#rows + 1] = { line = line, employee = row } end
    end
  end
  reader:close()

  return rows, in_line_order(problems)
end

-- problems and more (both "path:LINE: message" lists, each in line order)
-- as one list in line order.
function M.merge_problems(path, problems, more)
  local all = {}
  for _, list in ipairs({ problems, more }) do
    for _, p in ipairs(list) do all[#all + 1] = { line = line_of(path, p), n = #all + 1, text = p } end
  end
  return in_line_order(all)
end

-- One problem per line, each terminal-safe (tc.printable: a column name or
-- value cannot drive the terminal), at most max (default 50) then
-- "... and N more", then how to convert the file when it is not UTF-8.
function M.format_problems(problems, max)
  max = max or 50
  local out = {}
  local utf8_hint
  for i = 1, math.min(#problems, max) do out[i] = tc.printable(problems[i]) end
  for _, p in ipairs(problems) do utf8_hint = utf8_hint or p:find("invalid UTF-8", 1, true) end
  if #problems > max then insert(out, fmt("... and %d more", #problems - max)) end
  if utf8_hint then
    -- Spreadsheets in China often save GBK.
    insert(out, "(a roster must be UTF-8; one saved as GBK converts with "
                .. "iconv -f GBK -t UTF-8 roster.csv > roster-utf8.csv)")
  end
  return concat(out, "\n")
end

return M
