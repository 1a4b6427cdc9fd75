#!/usr/bin/env tcrun
-- roster.lua: the sample loads clean; each malformed roster is reported as
-- exact "file:line: message" lines, in line order; BOM, CRLF, quotes, extras.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local roster = require "tcrun.roster"
local srcdir = os.getenv("TCRUN_SRCDIR")

local HEADER = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"
local GOOD = "alice.wang,Alice,alice@example.com,+86 138 0000 0001,platform,admin,dev,CC1,yes\n"

local tmpfiles = {}
local function write(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  tmpfiles[#tmpfiles + 1] = path
  return path
end

-- Loads content and returns rows, the problems as one string, and the path.
local function load(content, spec)
  local path = write(content)
  local rows, problems = roster.load(path, spec or roster.ONBOARD)
  return rows, table.concat(problems, "\n"), path
end

-- Expected problems: {line, message} pairs prefixed with path.
local function want(path, list)
  local out = {}
  for i, p in ipairs(list) do out[i] = ("%s:%d: %s"):format(path, p[1], p[2]) end
  return table.concat(out, "\n")
end

-- 1. the sample
local rows, problems = roster.load(srcdir .. "/samples/roster.csv", roster.ONBOARD)
t.is(#problems, 0, "samples/roster.csv has no problems")
t.is(#rows, 6, "samples/roster.csv has 6 employees")
local seen = { bu = {}, role = {}, no_ws = 0 }
for _, row in ipairs(rows) do
  local r = row.employee
  seen.bu[r.business_unit] = true
  seen.role[r.role] = true
  if r.workspace == false then seen.no_ws = seen.no_ws + 1 end
end
t.ok(seen.bu.platform and seen.bu.research, "sample covers platform and research")
t.ok(seen.role.viewer and seen.role.developer and seen.role.operator and seen.role.admin,
     "sample covers all four roles")
t.is(seen.no_ws, 1, "sample has one employee without a workspace")

-- 2. one malformed roster per kind of problem: name, body after the header, problems
local cases = {
  { "duplicate username, case-insensitive",
    GOOD .. "bob,Bob,bob@example.com,,platform,viewer,dev,CC1,\n" ..
            "Alice.Wang,Alice2,a2@example.com,,platform,viewer,dev,CC1,yes\n",
    { { 4, "duplicate username 'Alice.Wang' (first on line 2)" } } },
  { "unknown role",
    "bob,Bob,bob@example.com,,platform,root,dev,CC1,yes\n",
    { { 2, "unknown role 'root' (expected viewer, developer, operator or admin)" } } },
  { "unknown environment",
    "bob,Bob,bob@example.com,,platform,viewer,dev;qa,CC1,yes\n",
    { { 2, "unknown environment 'qa' in environments 'dev;qa' (expected dev, test, staging or prod)" } } },
  { "duplicate environment",
    "bob,Bob,bob@example.com,,platform,viewer,dev; prod;dev,CC1,yes\n",
    { { 2, "duplicate environment 'dev' in environments 'dev; prod;dev'" } } },
  { "empty environment item",
    "bob,Bob,bob@example.com,,platform,viewer,dev;;prod,CC1,yes\n",
    { { 2, "empty item in environments 'dev;;prod'" } } },
  { "bad emails",
    "b1,B,bob.example.com,,platform,viewer,dev,CC1,yes\n" ..
    "b2,B,bob@localhost,,platform,viewer,dev,CC1,yes\n" ..
    "b3,B,@example.com,,platform,viewer,dev,CC1,yes\n" ..
    "b4,B,\"bob @example.com\",,platform,viewer,dev,CC1,yes\n" ..
    "b5,B,a@b@example.com,,platform,viewer,dev,CC1,yes\n" ..
    "b6,B,bob@example..com,,platform,viewer,dev,CC1,yes\n",
    { { 2, "invalid email 'bob.example.com': needs exactly one @" },
      { 3, "invalid email 'bob@localhost': domain 'localhost' is not like example.com" },
      { 4, "invalid email '@example.com': nothing before the @" },
      { 5, "invalid email 'bob @example.com': contains a space" },
      { 6, "invalid email 'a@b@example.com': needs exactly one @" },
      { 7, "invalid email 'bob@example..com': domain 'example..com' is not like example.com" } } },
  { "missing required column",
    "", { { 1, "missing required column 'role'" } },
    "username,display_name,email,phone,business_unit,environments,cost_center\n" },
  { "ragged row",
    "bob,Bob,bob@example.com,,platform,viewer,dev,CC1\n",
    { { 2, "expected 9 fields, got 8" } } },
  { "invalid UTF-8",
    "bob,B\xffb,bob@example.com,,platform,viewer,dev,CC1,yes\n",
    { { 2, "invalid UTF-8 in field 2 (display_name)" } } },
  { "bad username characters",
    "bob smith,Bob,bob@example.com,,platform,viewer,dev,CC1,yes\n" ..
    "李明,Li,li@example.com,,platform,viewer,dev,CC1,yes\n",
    { { 2, "invalid character ' ' in username 'bob smith' (allowed: letters, digits and +=,.@_-)" },
      { 3, "invalid character '李' in username '李明' (allowed: letters, digits and +=,.@_-)" } } },
  { "too-long username",
    ("a"):rep(65) .. ",Bob,bob@example.com,,platform,viewer,dev,CC1,yes\n" ..
    ("b"):rep(64) .. ",Bob,bob@example.com,,platform,viewer,dev,CC1,yes\n",
    { { 2, "username '" .. ("a"):rep(40) .. "...' is 65 characters, longer than 64" } } },
  { "bad workspace value",
    "bob,Bob,bob@example.com,,platform,viewer,dev,CC1,maybe\n",
    { { 2, "invalid workspace 'maybe' (expected yes or no)" } } },
  { "bad phone, business unit, display name, cost center",
    "bob,Bob,bob@example.com,+86 12a4567,R&D,viewer,dev,CC1,yes\n" ..
    "carl,\"\",carl@example.com,123,ok,viewer,dev,\" \",yes\n",
    { { 2, "invalid phone '+86 12a4567' (expected an optional + and 6-20 digits, spaces or dashes)" },
      { 2, "invalid business_unit 'R&D' (allowed: a-z, 0-9, _ and -)" },
      { 3, "empty display_name" },
      { 3, "invalid phone '123' (expected an optional + and 6-20 digits, spaces or dashes)" },
      { 3, "empty cost_center" } } },
  { "several problems, all reported in line order",
    GOOD ..
    "bob,Bob,bob@example.com,,platform,root,dev,CC1,yes\n" ..
    "carl,Carl,carl@example.com,,platform\n" ..
    "dan,Dan,dan@example,,platform,viewer,dev;qa,CC1,yes\n" ..
    "alice.wang,A,a@example.com,,platform,viewer,dev,CC1,yes\n" ..
    "\"unterminated,x\n",
    { { 3, "unknown role 'root' (expected viewer, developer, operator or admin)" },
      { 4, "expected 9 fields, got 5" },
      { 5, "invalid email 'dan@example': domain 'example' is not like example.com" },
      { 5, "unknown environment 'qa' in environments 'dev;qa' (expected dev, test, staging or prod)" },
      { 6, "duplicate username 'alice.wang' (first on line 2)" },
      { 7, "unterminated quoted field" } } },
}
for _, c in ipairs(cases) do
  local name, body, expected, header = c[1], c[2], c[3], c[4]
  local _, got, path = load((header or HEADER) .. body)
  t.is(got, want(path, expected), name)
end

-- 3. a roster with a problem is never acted on: no rows, whichever line it is on
rows, problems = load(HEADER .. GOOD .. "bob,Bob,bob@example.com,,platform,root,dev,CC1,yes\n")
t.is(#rows, 0, "no rows alongside a problem on the last line")
rows, problems = load(HEADER .. "bob,Bob,bob@example.com,,platform,root,dev,CC1,yes\n" .. GOOD)
t.is(#rows, 0, "nor alongside one on the first")

-- 3b. check_row: more problems with each row that passes the roster's own
-- checks, in line order with them; the row it sees is the employee
local seen = {}
local function check_row(e)
  seen[#seen + 1] = e.username
  if e.business_unit ~= "platform" then return { "unit " .. e.business_unit .. " is unknown" } end
end
local path3 = write(HEADER .. GOOD ..
  "bob,Bob,bob@example.com,,lab,viewer,dev;prod,CC1,yes\n" ..
  "carl,Carl,carl@example.com,,platform,root,dev,CC1,yes\n" ..
  "dan,Dan,dan@example.com,,lab,viewer,dev,CC1,no\n")
rows, problems = roster.load(path3, roster.ONBOARD, check_row)
t.is(table.concat(problems, "\n"), want(path3, {
  { 3, "unit lab is unknown" },
  { 4, "unknown role 'root' (expected viewer, developer, operator or admin)" },
  { 5, "unit lab is unknown" } }), "check_row's problems have file:line, in line order")
t.is(table.concat(seen, ","), "alice.wang,bob,dan", "check_row sees only rows the roster accepts")
t.is(#rows, 0, "and its problems, too, mean no rows")
rows, problems = roster.load(write("username,role\nbob,viewer\n"), roster.ONBOARD, function(e)
  error("called for a roster missing required columns")
end)
t.is(#problems, 6, "no check_row when a required column is missing: its rows lack what it checks")
rows, problems = roster.load(write(HEADER .. GOOD), roster.ONBOARD, function(e)
  t.is(table.concat(e.environments, ","), "dev", "check_row gets normalised values")
end)
t.is(#rows, 1, "check_row returning nothing: the row is kept")

-- 3c. rows come back as they were read, from the compact form they wait in:
-- awkward text, empty extras, long fields, equal environments as one list
rows, problems = load("username,note,environments,role,workspace,phone\n" ..
  "ann,\"\0nul, \"\"quote\"\", \n\",\"prod;dev\",viewer,no,+86 1 2345 6789\n" ..
  "bo,,dev;prod,viewer,,\n" ..
  "cy," .. ("x"):rep(4096) .. ",dev,admin,YES,123456\n", roster.OFFBOARD)
t.is(problems, "", "awkward values: no problems")
local ann, bo, cy = rows[1] and rows[1].employee or {}, rows[2] and rows[2].employee or {},
                    rows[3] and rows[3].employee or {}
t.is(ann.note, "\0nul, \"quote\", \n", "NUL, comma, quote, newline kept as-is")
t.is(bo.note, "", "an empty extra stays an empty string")
t.is(#cy.note, 4096, "a field of MAX_FIELD bytes comes back whole")
t.is(ann.phone .. "|" .. tostring(bo.phone) .. "|" .. cy.phone, "+86123456789|nil|123456", "phones")
t.is(tostring(ann.workspace) .. tostring(bo.workspace) .. tostring(cy.workspace), "falsetruetrue",
     "workspace: no, empty, YES")
t.ok(ann.environments == bo.environments, "equal environments are one list")
t.is(table.concat(ann.environments, ","), "dev,prod", "in canonical order")
t.is(rows[3] and rows[3].line, 5, "lines counted across a quoted newline")
local names = {}
for k in pairs(ann) do names[#names + 1] = k end
table.sort(names)
t.is(table.concat(names, ","), "environments,note,phone,role,username,workspace",
     "an employee holds its columns and nothing else")

-- 3d. memory: a roster whose problem is on its last line keeps its rows
-- compactly until then (about 200 bytes a row, not 800 as tables)
local big = { HEADER }
for i = 1, 20000 do
  big[#big + 1] = ("emp%05d,Employee %d,emp%05d@example.com,+86 139 0000 %04d,platform,%s,dev;test,CC1,yes\n")
    :format(i, i, i, i % 10000, i == 20000 and "root" or "viewer")
end
local heap
collectgarbage()
local before = collectgarbage("count")
rows, problems = roster.load(write(table.concat(big)), roster.ONBOARD, function(e)
  if e.username == "emp19999" then collectgarbage() heap = collectgarbage("count") - before end
end)
t.is(#problems, 1, "20,000 rows, the last one bad")
t.ok(heap and heap < 8 * 1024, "the 19,999 rows before it take under 8 MB of Lua heap",
     ("%.1f MB"):format((heap or 0) / 1024))
print(("# %.1f MB of Lua heap for 19,999 rows"):format((heap or 0) / 1024))

-- 4. BOM, CRLF, quoted fields with commas, quotes and newlines; normalisation
rows, problems = load("\xEF\xBB\xBF" .. HEADER:gsub("\n", ",notes\r\n") ..
  "  alice.wang ,\"Wang, \"\"Ali\"\" Alice\",alice@example.com,+86-138-0000-0001,platform," ..
  "admin,\" prod ; dev;test \",CC1,NO,\"two\nlines\"\r\n" ..
  "bob,Bob,bob@example.com,,platform,viewer,dev,CC1,,\r\n")
t.is(problems, "", "BOM + CRLF + quoted fields: no problems")
local a, b = rows[1] and rows[1].employee or {}, rows[2] and rows[2].employee or {}
t.is(a.username, "alice.wang", "username trimmed")
t.is(a.display_name, "Wang, \"Ali\" Alice", "quoted display_name with comma and quotes")
t.is(a.notes, "two\nlines", "a quoted extra column keeps its newline")
t.is(a.phone, "+8613800000001", "phone dashes stripped")
t.is(b.phone, nil, "empty phone is no phone")
t.is(table.concat(a.environments or {}, ","), "dev,test,prod", "environments normalised to canonical order")
t.is(a.workspace, false, "workspace NO is false")
t.is(b.workspace, true, "empty workspace is true")
t.is(rows[2] and rows[2].line, 4, "line counts the newline inside the quoted field")
t.is(b.line, nil, "the line is the row's, not a column of the employee")

-- 5. extra columns are kept as-is; workspace defaults to yes when absent
rows, problems = load("username,display_name,email,phone,business_unit,role,environments,cost_center,manager,laptop\n" ..
  "bob,Bob,bob@example.com,,research,developer,test,CC9,alice.wang,\" MacBook \"\n")
t.is(problems, "", "extra columns are not problems")
b = rows[1] and rows[1].employee or {}
t.is(b.manager, "alice.wang", "extra column kept")
t.is(b.laptop, " MacBook ", "extra column kept as-is, not trimmed")
t.is(b.workspace, true, "no workspace column: workspace defaults to yes")

-- 6. the offboard spec needs only username, and still checks known columns
rows, problems = load("username\nalice.wang\nbob\n", roster.OFFBOARD)
t.is(problems, "", "offboard: a username-only file is valid")
t.is(#rows, 2, "offboard: both leavers returned")
t.is(rows[1] and rows[1].employee.workspace, nil, "offboard: no workspace default")
local _, got, path = load("username,role\nbob,root\nbob,viewer\n", roster.OFFBOARD)
t.is(got, want(path, { { 2, "unknown role 'root' (expected viewer, developer, operator or admin)" },
                       { 3, "duplicate username 'bob' (first on line 2)" } }),
     "offboard: known columns present are still checked")
_, got, path = load("role\nviewer\n", roster.OFFBOARD)
t.is(got, want(path, { { 1, "missing required column 'username'" } }), "offboard: username is required")

-- 7. unreadable files and header errors: nil and one problem
local missing = os.tmpname()
os.remove(missing)
rows, problems = roster.load(missing, roster.ONBOARD)
t.is(rows, nil, "missing file: nil rows")
t.is(problems[1], missing .. ": No such file or directory", "missing file: path: reason")
path = write("")
rows, problems = roster.load(path, roster.ONBOARD)
t.is(problems[1], path .. ":1: missing header", "empty file: path:1: missing header")
rows, got = load(HEADER:gsub("\n", ",line,uin\n") .. GOOD:gsub("\n", ",7,100000100004\n"))
t.is(got, "", "columns named like what the recipes track (line, uin) are allowed")
t.is(rows[1] and rows[1].line, 2, "and cannot shadow the row's line")
t.is(rows[1] and rows[1].employee.uin, "100000100004", "they stay roster data, under their own name")

-- 7b. a field over the size limit is a problem, found before any trimming
-- (trimming 80 KB of inner spaces took 34 s with a backtracking pattern)
local big = ("x" .. (" "):rep(81918) .. "y")
rows, got, path = load(HEADER .. "bob,\"" .. big .. "\",bob@example.com,,platform,viewer,dev,CC1,yes\n")
t.is(got, want(path, { { 2, "column 'display_name' is 81920 bytes, longer than 4096" } }),
     "an 80 KB field is refused by its size")
rows, got = load(HEADER .. "bob,\"  " .. ("a "):rep(1000) .. " \",bob@example.com,,platform,viewer,dev,CC1,yes\n")
t.like(got, "display_name .* is 1999 characters, longer than 64", "a 2 KB field is trimmed, then checked")

-- 7c. a roster that is not UTF-8 (a spreadsheet's GBK) says how to convert it
rows, problems = roster.load(write(HEADER .. "bob,\178\233\202\212,bob@example.com,,platform,viewer,dev,CC1,yes\n"),
                             roster.ONBOARD)
local text = roster.format_problems(problems)
t.like(text, "invalid UTF%-8", "GBK bytes are invalid UTF-8")
t.like(text, "iconv %-f GBK %-t UTF%-8", "and the problems end with how to convert the file")

-- 8. format_problems caps the list
local many = {}
for i = 1, 60 do many[i] = "f.csv:" .. i .. ": bad" end
local text = roster.format_problems(many)
t.is(select(2, text:gsub("\n", "")), 50, "50 problems then a summary line")
t.like(text, "\n%.%.%. and 10 more$", "ends with '... and 10 more'")
t.is(roster.format_problems({ "a", "b" }, 1), "a\n... and 1 more", "max is honoured")
t.is(roster.format_problems({}), "", "no problems: empty string")

for _, f in ipairs(tmpfiles) do os.remove(f) end
-- a display name with a line break (a quoted field) would break CAM remarks
do
  local _, probs, path = load(HEADER .. '"ann.li","Ann\nLi",ann@example.com,,platform,viewer,dev,CC1,yes\n')
  t.like(probs, path:gsub("%p", "%%%0") .. ":2: display_name .- has a control character",
         "a display name with a line break is refused")
end

-- A clean roster's rows stay packed until read: the employee is unpacked
-- once, on first use; status and facts are made on first use; derive
-- makes the fields it names.
do
  local derived = 0
  local rows, probs = roster.load(srcdir .. "/samples/roster.csv", roster.ONBOARD, nil,
    { unit = function(row) derived = derived + 1; return "unit of " .. row.employee.business_unit end })
  local r = rows[2]
  t.ok(#probs == 0 and rawget(r, "employee") == nil and type(rawget(r, "packed")) == "string"
       and r.line == 3, "a row is its line and a packed string until read")
  local e = r.employee
  t.ok(e.username == "bob.li" and type(e.environments) == "table" and rawget(r, "packed") == nil,
       "reading row.employee unpacks it (and drops the packed string)")
  t.is(r.employee, e, "once: the same table after")
  t.ok(next(r.status) == nil and r.status == r.status and r.facts ~= r.status,
       "status and facts: tables of their own, made on first use")
  t.ok(r.unit == "unit of " .. e.business_unit and r.unit and derived == 1,
       "derive makes row.unit on first use, once")
  t.is(r.nothing, nil, "any other field is nil")
end

t.done()
