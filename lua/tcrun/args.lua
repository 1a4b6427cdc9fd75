-- args.lua: a tiny command-line parser for recipes.
--   local spec = { "roster",                      -- positionals, in order
--     out = { value = true, default = "tcrun-out", help = "report folder" },
--     destroy = { help = "terminate servers" },  -- a flag: true or false
--     ["retain-days"] = { value = true, count = true, default = 30 } }
--   local opts, pos = args.parse(arg, spec)      -- or nil, message
-- Options are --name, --name value or --name=value, anywhere on the line;
-- "--" ends them.  opts is keyed by option name; flags default to false.
-- number = true takes any number; count = true a whole number >= 0.
-- Named positionals are required and extra ones refused.
-- Does not: short options, bundling, repeated values (the last one wins),
-- or printing and exiting: the recipe decides what to do with a message.
local fmt, concat, sort = string.format, table.concat, table.sort

local M = {}

local function is_option(a) return a:sub(1, 2) == "--" and #a > 2 end

-- tcrun's own options: given after the script, they reach the recipe.
local HOST = {}
for _, o in ipairs({ "profile", "region", "endpoint", "allow-http", "dry-run", "parallel",
                     "rate-limit", "retries", "timeout", "journal", "config", "list",
                     "verbose", "quiet", "version" }) do
  HOST[o] = true
end

-- opts, positionals; or nil and a message naming the bad argument.
function M.parse(argv, spec)
  local opts, pos = {}, {}
  for name, o in pairs(spec) do
    if type(name) == "string" then
      if o.value then opts[name] = o.default else opts[name] = false end
    end
  end
  local i, n, only_pos = 1, #argv, false
  while i <= n do
    local a = argv[i]
    if not only_pos and a == "--" then
      only_pos = true
    elseif only_pos or not is_option(a) then
      pos[#pos + 1] = a
    else
      local name, v = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local o = spec[name]
      if type(o) ~= "table" and HOST[name] then
        return nil, fmt("'--%s' is an option of tcrun itself: put it before the recipe "
                        .. "(tcrun --%s RECIPE ...)", name, name)
      end
      if type(o) ~= "table" then return nil, fmt("unknown option '--%s'", name) end
      if not o.value then
        if v then return nil, fmt("--%s takes no value", name) end
        v = true
      elseif not v then
        v = argv[i + 1]
        if v == nil or is_option(v) then return nil, fmt("--%s needs a value", name) end
        i = i + 1
      end
      if o.number or o.count then
        v = tonumber(v)
        if not v then return nil, fmt("--%s needs a number", name) end
        if o.count and (v < 0 or v % 1 ~= 0) then
          return nil, fmt("--%s needs a whole number, 0 or more", name)
        end
        if o.count then v = math.tointeger(v) end
      end
      opts[name] = v
    end
    i = i + 1
  end
  for k, name in ipairs(spec) do
    if pos[k] == nil then return nil, fmt("missing argument <%s>", name) end
  end
  if #pos > #spec then return nil, fmt("unexpected argument '%s'", pos[#spec + 1]) end
  return opts, pos
end

-- For recipes: opts, positionals; or, after printing the help (to stdout,
-- exit code 0) or the problem and the usage (to stderr, exit code 2),
-- nil and the exit code for the recipe to return.
function M.cli(argv, spec, synopsis)
  for _, a in ipairs(argv) do
    if a == "--help" then
      io.stdout:write(M.usage(spec, synopsis))
      return nil, 0
    end
  end
  local opts, pos = M.parse(argv, spec)
  if not opts then
    io.stderr:write("tcrun: ", pos, "\n", M.usage(spec, synopsis))
    return nil, 2
  end
  return opts, pos
end

-- Help text: a usage line and one line per option, sorted by name.
function M.usage(spec, synopsis)
  if not synopsis then
    local words = { "[options]" }
    for _, name in ipairs(spec) do words[#words + 1] = "<" .. name .. ">" end
    synopsis = concat(words, " ")
  end
  local names, lines = {}, { "usage: " .. synopsis }
  for name in pairs(spec) do
    if type(name) == "string" then names[#names + 1] = name end
  end
  sort(names)
  if #names > 0 then lines[#lines + 1] = "options:" end
  for _, name in ipairs(names) do
    local o = spec[name]
    local left = "--" .. name
    if o.value then
      left = left .. " " .. (o.metavar or ((o.number or o.count) and "N" or "VALUE"))
    end
    local right = o.help or ""
    if o.default ~= nil then
      right = right .. (right == "" and "" or " ") .. fmt("(default: %s)", o.default)
    end
    lines[#lines + 1] = (fmt("  %-22s %s", left, right):gsub("%s+$", ""))
  end
  return concat(lines, "\n") .. "\n"
end

return M
