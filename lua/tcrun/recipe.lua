-- recipe.lua: the kit every recipe stands on.  A recipe reads top-down as
-- a runbook and holds only its own steps; the kit does the rest:
--
--   local run, code = recipe.start(arg, spec)   -- options, roster, units,
--   if not run then return code end             -- --out, plan: or exit 2
--   run:each(function(e, unit, step)            -- every row, concurrently
--     local user = step("user", steps.user, ctx, e, unit)
--     ...
--   end)
--   return run:finish { report = ..., columns = ..., steps = ... }
--
-- spec:
--   name     label of the progress and the screen summary ("onboard")
--   usage    the synopsis --help prints
--   roster   "employees" (the full roster, business units checked),
--            "leavers" (only username required), or nil (no roster)
--   positionals  names of the recipe's own positional arguments (after
--            the roster's), in run.pos
--   options  the recipe's own options (args.lua), besides --out
--   out      the default --out folder (false: the recipe writes no file);
--            out_help, what goes there
--   no_dry_run  why, when the recipe has no dry run (--dry-run refused)
--   accounts "setup" for setup_accounts.lua (spokes may not exist yet)
--
-- The run: opts, rows, plan (plan.lua), units (units.lua), accounts
-- (accounts.lua: nil in single-account mode, else the hub and the spokes,
-- every one checked to be the configured account before any write), now
-- (os.time() at the start), stamp (its UTC "YYYYmmddTHHMMSSZ").
--
-- A row: line, employee (the roster's columns as validated, extra columns
-- under their own names; steps only read it: rows with the same
-- environments share one environments list), unit (settings, for
-- "employees"), status (step name -> the word it returned), facts (what
-- the steps made, for the report), and after a failure, error (one line,
-- terminal-safe: tc.printable) and failed_step.  A step is a function
-- returning a word for the summary ("created", "exists", ...) and a table
-- of what it made; step(name, fn, ...) calls fn(...), records both and
-- returns what it made, so steps pass what they make to the next by
-- argument, never through the row.
--
-- Everything wrong before the first write (options, roster, units,
-- --out) is reported, as `file:line: message` where there is a line, and
-- start() returns nil and exit code 2; a roster with no rows is warned
-- about, and start() returns nil and 0 (nothing to do).
local tc = require "tc"
local accounts = require "tcrun.accounts"
local api = require "tcrun.api"
local args = require "tcrun.args"
local plan = require "tcrun.plan"
local progress = require "tcrun.progress"
local report = require "tcrun.report"
local roster = require "tcrun.roster"
local units = require "tcrun.units"

local M = {}
local Run = {}
Run.__index = Run

local ROSTERS = { employees = roster.ONBOARD, leavers = roster.OFFBOARD }

local function fail(msg)
  io.stderr:write("tcrun: ", tc.printable(msg), "\n")
  return nil, 2
end

-- The roles and environments unit settings s offer, as sets: asked for
-- every row, so made once per unit (units:get returns the same settings).
local offers = setmetatable({}, { __mode = "k" })
local function offer(s)
  local o = offers[s]
  if not o then
    o = { roles = {}, environments = {} }
    for _, r in ipairs(s.roles) do o.roles[r] = true end
    for _, env in ipairs(s.environments) do o.environments[env] = true end
    offers[s] = o
  end
  return o
end

-- The business-unit problems of employee e (nil when none): its unit is
-- not declared, or does not offer its role or one of its environments.
-- A unit file that does not load stops everything: nil, message.
local function unit_problems(found, e)
  local s, err, why = found:get(e.business_unit)
  if why == "broken" then return nil, err end
  if not s then return { err } end
  local o, problems = offer(s), nil
  if not o.roles[e.role] then
    problems = { ("role '%s' is not one business unit '%s' offers"):format(e.role, e.business_unit) }
  end
  local envs = e.environments
  for i = 1, #envs do
    if not o.environments[envs[i]] then
      problems = problems or {}
      problems[#problems + 1] = ("environment '%s' is not one business unit '%s' offers")
                                  :format(envs[i], e.business_unit)
    end
  end
  return problems
end

-- Makes folder dir (and its parents) and checks that a file can be made
-- in it: true, or nil and why.
local function writable(dir)
  local ok, err = tc.mkdir(dir)
  if not ok then return nil, err end
  local probe = ("%s/.tcrun-probe-%s"):format(dir, tostring({}):match("0x(%x+)") or "x")
  local f
  f, err = io.open(probe, "w")
  if not f then return nil, err end
  f:close()
  os.remove(probe)
  return true
end

-- The run, or nil and the exit code after saying what is wrong.
function M.start(argv, spec)
  local options = { spec.roster and (spec.roster == "leavers" and "leavers" or "roster") or nil,
    out = spec.out ~= false and { value = true, default = spec.out, metavar = "DIR",
                                  help = spec.out_help or "folder for the report" } or nil }
  for _, p in ipairs(spec.positionals or {}) do options[#options + 1] = p end
  for k, v in pairs(spec.options or {}) do options[k] = v end
  local opts, pos = args.cli(argv, options, spec.usage)
  if not opts then return nil, pos end
  if tc.dry_run and spec.no_dry_run then
    return fail(("%s has no dry run: %s"):format(spec.name, spec.no_dry_run))
  end

  local dirs = { tc.home .. "/recipes/bu" }
  if tc.config_dir then table.insert(dirs, 1, tc.config_dir .. "/bu") end
  local found, uerr = units.open(dirs)
  if not found then return fail(uerr) end

  local rows, problems = {}, {}
  if spec.roster == "employees" then
    -- Each row's units checked as it is read, so that no row is kept
    -- longer than the roster's own checks need.
    local broken
    rows, problems = roster.load(pos[1], ROSTERS.employees, function(e)
      if broken then return nil end
      local more
      more, broken = unit_problems(found, e)
      return more
    end, { unit = function(row) return (found:get(row.employee.business_unit)) end })
    if broken then return fail(broken) end
  elseif spec.roster then
    rows, problems = roster.load(pos[1], ROSTERS[spec.roster])
  end
  if not rows or #problems > 0 then
    io.stderr:write(roster.format_problems(problems), "\n")
    return nil, 2
  end
  if #rows == 0 and spec.roster then
    tc.warn(("%s: no rows after the header: nothing to do"):format(pos[1]))
    return nil, 0
  end

  local run = setmetatable({ name = spec.name, opts = opts, pos = pos, rows = rows, units = found,
                             roster = spec.roster and pos[1] or nil,
                             plan = plan.new(tc.dry_run), failures = {}, now = os.time() }, Run)
  run.stamp = os.date("!%Y%m%dT%H%M%SZ", run.now)
  -- The output folder before any write: a run that cannot report must
  -- not start.  A dry run makes nothing there, but says what the real
  -- run would meet.
  local ok, err
  if spec.out == false then
    ok = true
  elseif run.plan.dry_run then
    ok, err = tc.mkdir(opts.out, { check = true })
  else
    ok, err = writable(opts.out)
  end
  if not ok then return fail("--out: " .. err) end
  -- Every account checked before the first write (raises, exit 2).
  run.accounts = accounts.open({ setup = spec.accounts == "setup" })
  if run.accounts then
    tc.log("accounts: " .. run.accounts:describe())
    if spec.roster == "employees" then
      problems = {}
      for _, row in ipairs(rows) do
        for _, env in ipairs(row.employee.environments) do
          if not run.accounts.spokes[env] then
            problems[#problems + 1] = ("%s:%d: environment '%s' has no account in %s")
              :format(pos[1], row.line, env, run.accounts.cfg.path)
          end
        end
      end
      if #problems > 0 then
        io.stderr:write(roster.format_problems(roster.merge_problems(pos[1], {}, problems)), "\n")
        return nil, 2
      end
    end
  end
  return run
end

-- step(name, fn, ...) for one row: see the top of this file.  Steps of
-- one row may run side by side (api.together): those still under way when
-- the row fails are the ones that failed.
local function stepper(row)
  row.running = {}
  return function(name, fn, ...)
    row.running[name] = (row.running[name] or 0) + 1
    local word, made = fn(...)
    row.running[name] = row.running[name] > 1 and row.running[name] - 1 or nil
    if word ~= nil then row.status[name] = word end
    for k, v in pairs(made or {}) do row.facts[k] = v end
    return made
  end
end

-- Runs fn(employee, unit, step) for every row (default run.rows), each in
-- its own coroutine, --parallel at once; one row's failure does not stop
-- the others.  A failed row gets error (one line) and its step's status
-- "failed".  Shows progress; returns the failed rows.
function Run:each(fn, rows)
  rows = rows or self.rows
  local bar = progress.new(#rows, self.name, self.plan.dry_run and "planned" or "done")
  local _, failures = tc.each(rows, function(row)
    fn(row.employee, row.unit, stepper(row))
    local name = row.employee.username
    bar:step(name, true, nil, self.plan.dry_run and not self.plan.writes[name] and "as wanted" or nil)
  end, { quiet = true })
  local failed = {}
  for _, f in ipairs(failures) do
    local row, e = f.row, f.error
    local also = type(e) == "table" and e.also and table.concat(e.also, "; ")
    row.error = tc.printable(api.message(e) .. (also and ("; also: " .. also) or ""))
    -- Failures alike, for the summary: the same API error (action, code
    -- and message, not the request id), else the same text but for the
    -- row's own name.
    local name = row.employee.username
    row.error_kind = (type(e) == "table" and e.code
      and ("%s.%s %s %s %s"):format(e.service or "", e.action or "", e.code, e.message or "",
                                    also or "")
      or row.error):gsub(name:gsub("%p", "%%%0"), "\0")
    local failed_steps = api.sorted_keys(row.running)
    for _, step in ipairs(failed_steps) do row.status[step] = "failed" end
    row.failed_step = failed_steps[1] and table.concat(failed_steps, ", ")
    bar:step(row.employee.username, false, row.error)
    failed[#failed + 1] = row
    self.failures[#self.failures + 1] = row
  end
  return failed
end

-- Fails the run as a whole (something no row owns, such as the password
-- file): says why now, and finish() then returns false.
function Run:fail(why)
  io.stderr:write("tcrun: ", tc.printable(why), "\n")
  self.failed = true
end

-- Ends the run: under a dry run the plan (shared writes first, then each
-- row's in roster order), else the report CSV in --out; then the screen
-- summary.  spec: report (file name in --out), columns (of the report),
-- steps (the summary's lines, in order), rows (default run.rows), title,
-- noun (what a row is, for the summary: default "employee").
-- Returns the recipe's status: true when no row failed, false when one
-- did (or run:fail was called), 3 when the report could not be written.
function Run:finish(spec)
  local rows = spec.rows or self.rows
  local status = #self.failures == 0 and not self.failed
  if self.plan.dry_run then
    local names, failed = {}, {}
    for _, row in ipairs(rows) do
      names[#names + 1] = row.employee.username
      if row.error then failed[row.employee.username] = true end
    end
    self.plan:print(names, nil, spec.noun or "employee", failed)
  else
    local path = self.opts.out .. "/" .. spec.report
    local ok, err = report.csv(path, spec.columns, rows)
    if ok then
      tc.log("report: " .. path)
    else
      io.stderr:write("tcrun: report not written: ", tc.printable(err), "\n")
      status = 3
    end
  end
  local title = spec.title or self.name
  report.screen(self.plan.dry_run and (title .. " (dry run)") or title, rows, spec.steps, nil,
                spec.noun)
  return status
end

return M
