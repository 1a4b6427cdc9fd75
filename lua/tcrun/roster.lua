-- roster.lua: load an employee roster CSV and validate every row before
-- anything is written.  roster.load(path, spec [, check_row]) -> rows,
-- problems: problems are "path:LINE: message" strings in line order, and
-- rows, when there is none, the records, each { line = N, employee =
-- { column = value } } with known columns normalised and extra columns
-- kept as-is under their own names.  Rows with equal environments share
-- one list: rows are read, never changed.  Known columns are checked
-- wherever they appear; spec.required says which must be there.  The file
-- is read once, as a stream (bench/roster.py measures 100,000 rows).
-- Does not: call the cloud, check business units (check_row does:
-- recipe.lua with units.lua), or decide what to do about problems
-- (recipes refuse to write).
local tc = require "tc"
local csv = require "tcrun.csv"
local rowpack = require "tcrun.rowpack"

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
  local first, last = s:byte(1), s:byte(-1)
  if first and first > 32 and last > 32 then return s end  -- the usual case
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
  -- The usual address in one anchored pass (the checks below, which name
  -- what is wrong, accept exactly the same addresses).
  local at = v:find("@", 1, true)
  if at and #v <= 254 and v:find("^[^@%s%c]+@[^@%s%c.]+%.[^@%s%c]+$")
     and not v:find("..", at, true) and v:byte(-1) ~= 46 then
    return v
  end
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
  local plus = v:byte(1) == 43 and 1 or 0     -- a leading +
  local kept = v:gsub("[ -]", "")             -- the + (if any), then the digits
  local digits = #kept - plus
  if not kept:find("^%d+$", plus + 1) or digits < 6 or digits > 20 then
    return nil, fmt("invalid phone %s (expected an optional + and 6-20 digits, spaces or dashes)",
                    show(v))
  end
  return kept
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

-- check[name], remembering its answer for each value: for the columns
-- whose values repeat (a few units, roles and environment lists), so that
-- each distinct value is checked once and rows with the same environments
-- share one list.
local function remembered(fn)
  local vals, msgs = {}, {}
  return function(v)
    local val, msg = vals[v], msgs[v]
    if val == nil and msg == nil then
      val, msg = fn(trim(v))
      vals[v], msgs[v] = val, msg
    end
    return val, msg
  end
end
local REPEATING = { business_unit = true, role = true, environments = true, workspace = true }

-- The known columns a roster with these header names has, and the
-- check of each (a function of the untrimmed value).
local function checks_for(names, spec)
  local present, fns = {}, {}
  for _, name in ipairs(names) do present[name] = true end
  local list = {}
  for _, name in ipairs(FIELDS) do
    if present[name] or (spec.defaults and spec.defaults[name] ~= nil) then
      list[#list + 1] = name
      local fn = check[name]
      fns[name] = REPEATING[name] and remembered(fn) or function(v) return fn(trim(v)) end
    end
  end
  return list, fns
end

-- pack(line, employee) -> string and unpack(string) -> line, employee,
-- for rows of these columns, through rowpack (text only).  The known
-- columns whose values are not text go as text: no phone as "", workspace
-- as "yes" or "no", environments as "dev;prod", which comes back through
-- the remembered check, so that rows with equal environments share a list.
local function packer(columns, checks)
  local to_text = {
    phone = function(v) return v or "" end,
    workspace = function(v) return v and "yes" or "no" end,
    environments = function(v) return concat(v, ";") end,
  }
  local from_text = {
    phone = function(s) if s ~= "" then return s end end,
    workspace = function(s) return s == "yes" end,
    environments = function(s) return (checks.environments(s)) end,
  }
  local n, to, coded = #columns, {}, {}
  for j, name in ipairs(columns) do
    to[j] = to_text[name]
    if from_text[name] then coded[#coded + 1] = name end
  end
  local text = {}                       -- reused by every pack
  local function pack(line, e)
    for j = 1, n do
      local v = e[columns[j]]
      if to[j] then v = to[j](v) end
      text[j] = v
    end
    return rowpack.pack(line, text, n)
  end
  local function unpack(s)
    local line, e = rowpack.unpack(s, columns)
    for i = 1, #coded do
      local name = coded[i]
      e[name] = from_text[name](e[name])
    end
    return line, e
  end
  return pack, unpack
end

-- rows, problems; or nil, {"path: reason"} when the file cannot be read.
-- A row: line, employee, status, facts (see the end of load()).
-- check_row(employee), when given, is called for each row that passes
-- the roster's own checks (none when a required column is missing), and
-- returns nil or a list of more problems with it (recipe.lua: business
-- units); the table it gets holds the next row after it returns.  A roster with a problem is never acted on, so
-- rows is then empty; until the end of the file the valid rows wait
-- packed (host/lrowpack.c), so that validating 100,000 rows takes tens of
-- MB, not hundreds.
function M.load(path, spec, check_row, derive)
  local reader, err = csv.open(path)
  if not reader then return nil, { err } end
  local header = reader:header()

  local problems = {}
  local function problem(line, msg)
    problems[#problems + 1] = { line = line, n = #problems + 1,
                                text = fmt("%s:%d: %s", path, line, msg) }
  end
  local found = {}
  for _, name in ipairs(header) do found[name] = true end
  for _, name in ipairs(spec.required) do
    if not found[name] then
      problem(1, fmt("missing required column '%s'", name))
      check_row = nil
    end
  end

  -- Whether the record of line is valid, each problem reported.  Sizes
  -- are checked first, in column-name order, then the known columns in
  -- FIELDS order, then the username's uniqueness.  The known columns of
  -- rec are replaced by their normalised values: rec becomes the employee.
  local by_name = table.move(header, 1, #header, 1, {})
  sort(by_name)
  local known, checks = checks_for(header, spec)
  local first_line = {}
  local function valid(rec, line)
    local bad, oversized = false, nil
    for i = 1, #by_name do              -- (numeric loops: this runs per row)
      local k = by_name[i]
      local len = #rec[k]
      if len > M.MAX_FIELD then
        problem(line, fmt("column %s is %d bytes, longer than %d", show(k), len, M.MAX_FIELD))
        oversized = oversized or {}
        bad, oversized[k] = true, true
      end
    end
    for i = 1, #known do
      local name = known[i]
      if not (oversized and oversized[name]) then
        local val, msg = checks[name](found[name] and rec[name] or spec.defaults[name])
        if msg then problem(line, msg); bad = true end
        rec[name] = val
      end
    end
    local key = rec.username and rec.username:lower()
    if key and first_line[key] then
      problem(line, fmt("duplicate username %s (first on line %d)", show(rec.username), first_line[key]))
      bad = true
    elseif key then
      first_line[key] = line
    end
    return not bad
  end

  -- One table, rec, holds each record in turn (no garbage per row).
  local columns = table.move(header, 1, #header, 1, {})
  for _, name in ipairs(known) do
    if not found[name] then columns[#columns + 1] = name end
  end
  local pack, unpack = packer(columns, checks)
  local kept, lines, rec = {}, {}, {}
  while true do
    local got, line = reader:next(rec)
    if got == nil then break end
    if got == false then
      problems[#problems + 1] = { line = line_of(path, line), n = #problems + 1, text = line }
    elseif valid(rec, line) and check_row then
      for _, msg in ipairs(check_row(rec) or {}) do problem(line, msg) end
    end
    if #problems > 0 then
      kept = nil                        -- no row will be wanted
    elseif got then
      local k = #kept + 1
      kept[k], lines[k] = pack(line, rec), line
    end
  end
  reader:close()

  if #problems > 0 then return {}, in_line_order(problems) end
  -- A row stays packed until someone reads it: row.employee unpacks it
  -- (once), row.status and row.facts are made on first use (recipe.lua),
  -- and derive[k](row), when given, makes row[k] (recipe.lua: the unit).
  -- So a clean 100,000-row roster is held in tens of MB until the run
  -- gets to its rows.
  local lazy = { __index = function(row, k)
    local v
    if k == "employee" then
      local _, e = unpack(rawget(row, "packed"))
      row.packed, v = nil, e
    elseif k == "status" or k == "facts" then
      v = {}
    elseif derive and derive[k] then
      v = derive[k](row)
    else
      return nil
    end
    rawset(row, k, v)
    return v
  end }
  local rows = {}
  for i = 1, #kept do
    rows[i], kept[i] = setmetatable({ line = lines[i], packed = kept[i] }, lazy), nil
  end
  return rows, problems
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
