-- lint.lua: check a CAM policy document before a rollout attaches it.
--
--   local lint = require "tcrun.lint"
--   local problems = lint.check(doc_text, { environment = "prod", admin = false })
--   -- problems: a list of one-line strings, empty when the document is fine;
--   -- each names the statement (1-based) and the element it is about.
--
-- opts (all optional):
--   environment  "prod" turns on the prod rule below; other values change nothing
--   admin        true for an admin role's policy: the prod rule does not apply
--   trust        true for a role trust policy (CreateRole, UpdateAssumeRolePolicy):
--                each statement needs a principal and has no resource
--
-- The rules, from the CAM docs (policy syntax, element reference, resource
-- description, condition keys and operators) and the fact sheet
-- (/work/shared/reference/tencentcloud-api.md, section 4):
--   * valid JSON; an object with exactly the elements "version" (the string
--     "2.0") and "statement" (a non-empty list); element names are lowercase.
--   * a statement has "effect" ("allow" or "deny", lowercase), "action" and
--     "resource" (each a string or a non-empty list of strings), optionally
--     "condition"; "principal" only in a trust policy (which has no resource).
--   * at most 6144 characters, counted on the compact JSON (policy.lua's form).
--   * a resource is "*" or qcs:project:service:region:account:resource, with
--     an empty project, the service empty (every service) or a known one, the
--     region empty or a region name, the account empty (the owner), uin/<uin>
--     or uid/<appid>, and a resource "*" or <type>/<id or path>.
--   * condition operators: the documented list (cam_eval's OPERATORS less
--     the two it keeps only for the sandbox), each with an optional
--     for_any_value: or for_all_value: qualifier and an optional _if_exist
--     suffix (not on null_equal), as cam_eval.split_op reads them.
--   * an action is "*" or service:Action (the legacy "name/" prefix is
--     dropped) where the service and the action are in the catalogue
--     (tcrun.actions, generated from the official Node SDK); a "*" wildcard
--     must match at least one catalogued action.  "permid/" feature sets
--     cannot be checked and are reported.
--   * prod rule: in a prod policy that is not an admin's, an allow statement
--     may not name the action "*", an action "<service>:*" or the resource
--     "*" (a condition does not change that: it only narrows at request
--     time, and a tag condition is only as strong as tag permissions).
--     Deny statements may use wildcards, and so may a statement that only
--     reads (Describe*, List*, Get*, LookUp* actions) on the resource "*":
--     CAM authorizes list operations against "*" alone, so a read of a
--     typed resource would be refused; a read is not the risk this rule
--     is for.
local json = require "tcrun.json"
local api = require "tcrun.api"
local ev = require "tcrun.cam_eval"
local catalogue = require "tcrun.actions"

local M = {}

M.MAX_CHARS = 6144

-- cam_eval accepts these two for the sandbox; the CAM docs do not list them.
local UNDOCUMENTED = { date_not_greater_than = true, date_not_less_than = true }

-- The documented base operators (without qualifier or suffix), sorted.
M.OPERATORS = {}
for _, op in ipairs(ev.OPERATORS) do
  if not UNDOCUMENTED[op] then M.OPERATORS[#M.OPERATORS + 1] = op end
end

-- Services CAM policies name that have no API 3.0 client in the SDK.
M.EXTRA_RESOURCE_SERVICES = { cos = true }

-- CAM actions that are no API method but that a documented API checks:
-- DeleteUser with Force=1 needs cam:DeleteApiKey (the DeleteUser doc).
M.EXTRA_ACTIONS = { cam = { "DeleteApiKey" } }

local ARRAY_MT = getmetatable(json.array())
local function is_array(v) return type(v) == "table" and getmetatable(v) == ARRAY_MT end
local function is_object(v) return type(v) == "table" and getmetatable(v) ~= ARRAY_MT end

local function q(s)
  if type(s) ~= "string" then return tostring(s) end
  return json.encode(s)
end

local function kind(v)
  if v == json.null then return "null" end
  if is_array(v) then return "a list" end
  if is_object(v) then return "an object" end
  if type(v) == "string" then return "a string" end
  if type(v) == "number" then return "a number" end
  if type(v) == "boolean" then return "a boolean" end
  return type(v)
end

local sorted_keys = api.sorted_keys

---------------------------------------------------------------------------
-- The catalogue: service -> set of actions, built once.

local sets, services
local function load_catalogue()
  if sets then return end
  sets, services = {}, {}
  for svc, list in pairs(catalogue) do
    local s = {}
    for _, a in ipairs(list) do s[a] = true end
    sets[svc] = s
    services[#services + 1] = svc
  end
  table.sort(services)
  for svc, list in pairs(M.EXTRA_ACTIONS) do
    for _, a in ipairs(list) do sets[svc][a] = true end
  end
end

-- Whether the catalogue has service:action (no wildcards).
function M.known_action(service, action)
  load_catalogue()
  return sets[service] ~= nil and sets[service][action] == true
end

-- The number of catalogued actions a pattern ("cam:List*", "*:Describe*") matches.
function M.count_matches(service_pat, action_pat)
  load_catalogue()
  local n = 0
  for _, svc in ipairs(services) do
    if ev.glob(service_pat, svc) then
      if not action_pat:find("*", 1, true) then
        if sets[svc][action_pat] then n = n + 1 end
      else
        for _, a in ipairs(catalogue[svc]) do
          if ev.glob(action_pat, a) then n = n + 1 end
        end
      end
    end
  end
  return n
end

-- The catalogued spelling of service:action when only its case differs.
local function case_twin(service, action)
  local list = catalogue[service]
  if not list then return nil end
  local want = action:lower()
  for _, a in ipairs(list) do
    if a:lower() == want then return a end
  end
  return nil
end

-- A problem with one action string, or nil.
local function action_problem(a)
  if a == "*" then return nil end
  if a:sub(1, 7) == "permid/" then
    return "is a feature set (permid/), which the action catalogue cannot check"
  end
  local name = a:sub(1, 5) == "name/" and a:sub(6) or a
  local svc, act = name:match("^([^:]*):(.*)$")
  if not svc or svc == "" or act == "" or act:find(":", 1, true) then
    return 'is not "service:Action" (or "*")'
  end
  load_catalogue()
  local wild_svc = svc:find("*", 1, true) ~= nil
  if not wild_svc and not sets[svc] then
    return ("names the unknown service %s"):format(q(svc))
  end
  if not act:find("^[%w*]+$") then
    return ("has %s, which is not an action name"):format(q(act))
  end
  if not wild_svc and not act:find("*", 1, true) then
    if sets[svc][act] then return nil end
    local twin = case_twin(svc, act)
    if twin then
      return ("is not an action of %s (names are case-sensitive: %s)"):format(svc, q(svc .. ":" .. twin))
    end
    return ("is not an action of %s"):format(svc)
  end
  if M.count_matches(svc, act) == 0 then
    return "matches no action in the catalogue"
  end
  return nil
end

---------------------------------------------------------------------------
-- Resources

local SEGMENTS = { "qcs", "project", "service", "region", "account", "resource" }

local function resource_problem(r)
  if r == "*" then return nil end
  local segs, start = {}, 1
  for _ = 1, 5 do
    local i = r:find(":", start, true)
    if not i then break end
    segs[#segs + 1] = r:sub(start, i - 1)
    start = i + 1
  end
  segs[#segs + 1] = r:sub(start)
  if #segs < 6 then
    return ('has %d segment%s, not "*" or the six of qcs:project:service:region:account:resource')
        :format(#segs, #segs == 1 and "" or "s")
  end
  local function seg(i, why)
    return ("segment %d (%s) %s, not %s"):format(i, SEGMENTS[i], why, q(segs[i]))
  end
  if segs[1] ~= "qcs" then return seg(1, 'must be "qcs"') end
  if segs[2] ~= "" then return seg(2, "must be empty") end
  local svc = segs[3]
  if svc ~= "" and svc ~= "*" then
    load_catalogue()
    if not svc:find("^%l[%l%d_%-]*$") then
      return seg(3, "must be empty (every service) or a service name like tcb")
    end
    if not sets[svc] and not M.EXTRA_RESOURCE_SERVICES[svc] then
      return seg(3, "must be empty (every service) or a known service")
    end
  end
  local region = segs[4]
  if region ~= "" and region ~= "*" and not api.is_region(region) then
    return seg(4, "must be empty (every region) or a region name like ap-guangzhou")
  end
  local account = segs[5]
  if account ~= "" and not account:find("^uin/[%d*]+$") and not account:find("^uid/[%d*]+$")
      and account ~= "uin/${owner_uin}" then
    return seg(5, "must be empty (the owner), uin/<uin> or uid/<appid>")
  end
  local res = segs[6]
  if res ~= "*" and not res:find("^[%w_%.%-*]+/.") then
    return seg(6, 'must be "*" or <type>/<id>')
  end
  return nil
end

---------------------------------------------------------------------------
-- Conditions

local function condition_problems(cond, add)
  if not is_object(cond) then
    add(("is %s, not an object of operators"):format(kind(cond)))
    return
  end
  if next(cond) == nil then add("is empty") end
  for _, op in ipairs(sorted_keys(cond)) do
    local sp, why = ev.split_op(op)
    if not sp then
      if why:find("^unknown condition operator") then why = "is not a documented operator" end
      if why:find("^unknown condition qualifier") then
        why = "has a qualifier other than for_any_value: or for_all_value:"
      end
      add(("%s %s"):format(q(op), (why:gsub("^null_equal takes", "takes"))))
    elseif UNDOCUMENTED[sp.base] then
      add(("%s is not a documented operator"):format(q(op)))
    end
    local body = cond[op]
    if not is_object(body) or next(body) == nil then
      add(("%s must map condition keys to values, not %s"):format(q(op), kind(body)))
    else
      for _, key in ipairs(sorted_keys(body)) do
        local vals = body[key]
        if key == "" then add(("%s has an empty condition key"):format(q(op))) end
        local list = is_array(vals) and vals or { vals }
        if #list == 0 then
          add(("%s %s has no values"):format(q(op), q(key)))
        end
        for _, v in ipairs(list) do
          if type(v) == "table" or v == json.null then
            add(("%s %s: a value is %s, not a string, number or boolean"):format(q(op), q(key), kind(v)))
            break
          end
        end
      end
    end
  end
end

---------------------------------------------------------------------------
-- Statements

local STATEMENT_KEYS = { effect = true, action = true, resource = true, condition = true }

-- A string element as a list of strings, or nil and why.
local function strings(v)
  if type(v) == "string" then return { v } end
  if not is_array(v) then return nil, ("is %s, not a string or a list of strings"):format(kind(v)) end
  if #v == 0 then return nil, "is an empty list" end
  for _, x in ipairs(v) do
    if type(x) ~= "string" then return nil, ("has an item that is %s, not a string"):format(kind(x)) end
  end
  return v
end

local function check_statement(i, s, opts, add)
  local function say(element, msg) add(("statement %d: %s %s"):format(i, element, msg)) end
  if not is_object(s) then
    add(("statement %d: is %s, not an object"):format(i, kind(s)))
    return
  end
  for _, k in ipairs(sorted_keys(s)) do
    if k == "principal" then
      if not opts.trust then
        say("principal", "is not allowed in a permission policy (only in a role's trust policy)")
      end
    elseif not STATEMENT_KEYS[k] then
      local lower = type(k) == "string" and k:lower()
      if lower and (STATEMENT_KEYS[lower] or lower == "principal") then
        say(q(k), ("is not an element: element names are lowercase (%s)"):format(q(lower)))
      else
        say(q(k), "is not an element of a statement")
      end
    end
  end

  local effect = s.effect
  if effect == nil then
    say("effect", "is missing")
  elseif effect ~= "allow" and effect ~= "deny" then
    say("effect", ('must be "allow" or "deny" (lowercase), not %s'):format(q(effect)))
  end

  local actions
  if s.action == nil then
    say("action", "is missing")
  else
    local why
    actions, why = strings(s.action)
    if not actions then say("action", why) end
  end
  for _, a in ipairs(actions or {}) do
    local why = action_problem(a)
    if why then say("action " .. q(a), why) end
  end

  local resources
  if opts.trust then
    if s.resource ~= nil then say("resource", "is not used in a trust policy") end
    if s.principal == nil then say("principal", "is missing (a trust policy names who may assume the role)")
    elseif not is_object(s.principal) or next(s.principal) == nil then
      say("principal", ("is %s, not an object like {\"qcs\": [...]}"):format(kind(s.principal)))
    end
  elseif s.resource == nil then
    say("resource", "is missing")
  else
    local why
    resources, why = strings(s.resource)
    if not resources then say("resource", why) end
  end
  for _, r in ipairs(resources or {}) do
    local why = resource_problem(r)
    if why then say("resource " .. q(r), why) end
  end

  if s.condition ~= nil then
    condition_problems(s.condition, function(msg) say("condition", msg) end)
  end

  if effect == "allow" and opts.environment == "prod" and not opts.admin then
    for _, a in ipairs(actions or {}) do
      local name = a:sub(1, 5) == "name/" and a:sub(6) or a
      if name == "*" or name == "*:*" then
        say("action " .. q(a), 'allows the wildcard "*" in a non-admin prod policy')
      elseif name:find("^[^:*]+:%*$") then
        say("action " .. q(a), 'allows the wildcard "service:*" in a non-admin prod policy')
      elseif name:find("^cam:") and name:find("*", 1, true)
             and not (name:find("^cam:List") or name:find("^cam:Get") or name:find("^cam:Describe")) then
        say("action " .. q(a), "allows a wildcard on CAM in a non-admin prod policy")
      end
    end
    local reads_only = #(actions or {}) > 0
    for _, a in ipairs(actions or {}) do
      local act = (a:sub(1, 5) == "name/" and a:sub(6) or a):match("^[^:]+:(.+)$") or ""
      if not (act:find("^Describe[%a*]") or act:find("^List[%a*]") or act:find("^Get[%a*]")
              or act:find("^LookUp[%a*]")) then
        reads_only = false
      end
    end
    for _, r in ipairs(resources or {}) do
      -- qcs:::::* and the like: every segment empty or "*" is "*" too.
      local whole = r == "*" or (r:find("^qcs:") and not r:sub(5):gsub("/%*$", ""):find("[^:*]"))
      if whole and not reads_only then
        say("resource " .. q(r), ('allows the wildcard "*" in a non-admin prod policy%s')
            :format(s.condition ~= nil and " (a condition does not make it narrower here)" or ""))
      end
    end
  end
end

---------------------------------------------------------------------------

-- problems (a list of one-line strings; empty when the document is fine)
function M.check(doc_text, opts)
  opts = opts or {}
  local problems = {}
  local function add(msg) problems[#problems + 1] = msg end
  if type(doc_text) ~= "string" then
    add("policy: not a JSON text but " .. type(doc_text))
    return problems
  end
  local ok, doc, err = pcall(json.decode, doc_text)
  if not ok or doc == nil then
    add("policy: not valid JSON: " .. tostring(ok and err or doc))
    return problems
  end
  if not is_object(doc) then
    add(("policy: is %s, not a JSON object"):format(kind(doc)))
    return problems
  end

  local eok, compact = pcall(json.encode, doc)
  if eok then
    local n = utf8.len(compact) or #compact
    if n > M.MAX_CHARS then
      add(("policy: %d characters (compact JSON), over CAM's %d"):format(n, M.MAX_CHARS))
    end
    local hole = compact:match("{{[%w_]*}}")
    if hole then add(("policy: unrendered placeholder %s"):format(hole)) end
  else
    add("policy: cannot be written back as JSON: " .. tostring(compact))
  end

  for _, k in ipairs(sorted_keys(doc)) do
    if k ~= "version" and k ~= "statement" then
      local lower = type(k) == "string" and k:lower()
      if lower == "version" or lower == "statement" then
        add(("policy: %s is not an element: element names are lowercase (%s)"):format(q(k), q(lower)))
      else
        add(("policy: %s is not an element of a policy (only version and statement)"):format(q(k)))
      end
    end
  end
  if doc.version == nil then
    add('version: is missing (it must be "2.0")')
  elseif doc.version ~= "2.0" then
    add(('version: must be the string "2.0", not %s'):format(json.encode(doc.version)))
  end
  local stmts = doc.statement
  if stmts == nil then
    add("statement: is missing")
  elseif not is_array(stmts) then
    add(("statement: is %s, not a list of statements"):format(kind(stmts)))
  elseif #stmts == 0 then
    add("statement: is an empty list")
  else
    for i, s in ipairs(stmts) do check_statement(i, s, opts, add) end
  end
  return problems
end

return M
