-- plan.lua: the one door for write calls, and the one place that knows
-- whether the run is a dry run.  A real run makes each write (tc.call) and
-- returns its Response; a dry run records it for the printed plan and
-- returns nil.  So a step is written once for both modes: whatever follows
-- a write (waiting for a server, using a new id) runs when the write gave
-- a Response.  What a dry run would create is named by a planned id,
-- plan.planned("server"): a value of its own type that prints as
-- "(new server)", that plan.is_planned recognises, and that can never be
-- mistaken for a real id.  Waiting for the cloud to finish something goes
-- through the plan too (plan:wait): a dry run changes nothing, so it has
-- nothing to wait for, and a step then goes on from the state the thing
-- is heading for.
-- Does not: decide what to write (the steps do), or retry (the host does).
local tc = require "tc"
local api = require "tcrun.api"
local json = require "tcrun.json"

local M = {}
M.__index = M

local Planned = { __name = "tcrun.planned" }
Planned.__index = Planned
function Planned.__tostring(p) return "(new " .. p.what .. ")" end

-- A new planned id for a thing of kind what ("user", "server", ...).
function M.planned(what)
  return setmetatable({ what = what }, Planned)
end

function M.is_planned(v)
  return getmetatable(v) == Planned
end

function M.new(dry_run)
  return setmetatable({ dry_run = dry_run and true or false, writes = {}, whos = {},
                        count = 0 }, M)
end

-- Makes the write call and returns its Response, or records it under a dry
-- run and returns nil.  who groups writes in the printed plan; opts are
-- tc.call's (whose note also goes into the write's journal line: names
-- where the call has ids, the ticket it was made for), and in_account: the account a dry run names for a write
-- into an account it would make (no account object exists yet).
function M:write(who, service, action, params, opts)
  local note, in_account
  if opts and (opts.note or opts.in_account) then
    note, in_account = opts.note, opts.in_account
    local o = {}
    for k, v in pairs(opts) do if k ~= "in_account" then o[k] = v end end
    if note then o.note = note:sub(1, 500) end
    opts = o
  end
  if not self.dry_run then return tc.call(service, action, params, opts) end
  local list = self.writes[who]
  if not list then
    list = {}
    self.writes[who] = list
    self.whos[#self.whos + 1] = who
  end
  -- The account it would go to, when the run has several.
  local acct = in_account or opts and opts.account or tc.default_account()
  list[#list + 1] = { service = service, action = action, params = params,
                      region = opts and opts.region, note = note,
                      account = acct and tostring(acct) }
  self.count = self.count + 1
  return nil
end

-- api.wait(what, check, timeout, every) in a real run: check()'s first
-- value.  Under a dry run nil at once, without calling check.
function M:wait(what, check, timeout, every)
  if self.dry_run then return nil end
  return api.wait(what, check, timeout, every)
end

-- watcher:wait(id, done, timeout, what) (watch.lua) in a real run: done's
-- first value.  Under a dry run nil at once, without reading.
function M:watch(watcher, id, done, timeout, what)
  if self.dry_run then return nil end
  return watcher:wait(id, done, timeout, what)
end

-- The word for a step's summary after it wrote: word itself, or "planned"
-- under a dry run.
function M:outcome(word)
  return self.dry_run and "planned" or word
end

-- A copy of v fit to print: secrets and values under the host's secret
-- field names as "***", planned ids by name, long strings (policy
-- documents, scripts) cut short, except policy documents under -v (a
-- reviewer must see what a trust or permission policy will say).
local secret_field = {}
for _, k in ipairs(tc.secret_fields()) do secret_field[k] = true end

local DOCUMENT = { PolicyDocument = true, Content = true }

local function printable(v, key)
  if secret_field[key] or tc.is_secret(v) then return "***" end
  if M.is_planned(v) then return tostring(v) end
  if type(v) == "string" and #v > 80 and not (tc.verbose and DOCUMENT[key]) then
    return v:sub(1, (utf8.offset(v, 49) or 49) - 1) .. ("... (%d bytes)"):format(#v)
  end
  if type(v) ~= "table" then return v end
  local c = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do c[k] = printable(x, k) end
  return c
end

-- One planned write as one terminal-safe line.
function M.describe(w)
  return tc.printable(("%s.%s %s%s%s%s"):format(w.service, w.action, json.encode(printable(w.params)),
                                               w.region and (" (" .. w.region .. ")") or "",
                                               w.account and (" in account " .. w.account) or "",
                                               w.note and ("  # " .. w.note) or ""))
end

-- Prints the planned writes to out (default stdout): first those of names
-- not in order (shared work, such as "(groups)"), in the order they came,
-- then those of the names in order, in that order; then an overview: the
-- count, the writes by action, and how many of order (rows, each a noun,
-- default "row") would change, failed (failed: a set of names) or are as
-- wanted already.
function M:print(order, out, noun, failed)
  out, failed = out or io.stdout, failed or {}
  local listed, names = {}, {}
  for _, who in ipairs(order or {}) do listed[who] = true end
  for _, who in ipairs(self.whos) do
    if not listed[who] then names[#names + 1] = who end
  end
  for _, who in ipairs(order or {}) do names[#names + 1] = who end
  local actions, counts, touched = {}, {}, 0
  for _, who in ipairs(names) do
    local list = self.writes[who]
    if list then
      if listed[who] and not failed[who] then touched = touched + 1 end
      out:write(tc.printable(who), ":\n")
      for i, w in ipairs(list) do
        out:write(("  %d. %s\n"):format(i, M.describe(w)))
        local a = w.service .. "." .. w.action
        if not counts[a] then counts[a] = 0; actions[#actions + 1] = a end
        counts[a] = counts[a] + 1
      end
    end
  end
  -- The overview, where a long plan ends: what kinds of writes, and how
  -- many of the rows would change at all.
  out:write(("dry run: %d write call(s) planned, none made\n"):format(self.count))
  if self.count > 0 then
    table.sort(actions)
    local parts = {}
    for _, a in ipairs(actions) do parts[#parts + 1] = ("%s %d"):format(a, counts[a]) end
    out:write("  by action: ", table.concat(parts, ", "), "\n")
  end
  if order and #order > 0 then
    local nfailed = 0
    for _, who in ipairs(order) do
      if failed[who] then nfailed = nfailed + 1 end
    end
    local line = ("  %d of %d %s(s) would change"):format(touched, #order, noun or "row")
    if nfailed > 0 then line = line .. (", %d failed"):format(nfailed) end
    local same = #order - touched - nfailed
    if same > 0 then line = line .. (", %d as wanted already"):format(same) end
    out:write(line, "\n")
  end
end

return M
