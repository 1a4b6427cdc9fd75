-- money.lua: amounts of money as Billing gives them, decimal strings,
-- summed exactly: as whole numbers of 10^-8 yuan in Lua's 64-bit
-- integers (up to ten billion yuan per amount), never as floats.
--   local m = money.parse("19.90000000")   -- 1990000000, or nil and why
--   money.format(m)                         -- "19.90" (half away from zero)
--   money.format(m, 8)                      -- "19.90000000"
local M = {}

M.SCALE = 8
local ONE = 100000000          -- 10^SCALE

-- The amount of the decimal string s ("-12.3", "0.00000001", "7"), or nil
-- and why: no exponents, no thousands separators, at most 8 decimals.
function M.parse(s)
  if type(s) == "number" and math.type(s) == "integer" then return s * ONE end
  if type(s) ~= "string" then return nil, "not a decimal string" end
  local sign, int, frac = s:match("^%s*([+-]?)(%d+)%.?(%d*)%s*$")
  if not int then return nil, ("%q is not a decimal amount"):format(s) end
  if #frac > M.SCALE then
    if frac:sub(M.SCALE + 1):find("[^0]") then
      return nil, ("%q has more than %d decimals"):format(s, M.SCALE)
    end
    frac = frac:sub(1, M.SCALE)
  end
  if #int > 10 then return nil, ("%q is too large"):format(s) end
  local v = tonumber(int) * ONE + tonumber((frac .. ("0"):rep(M.SCALE - #frac)))
  return sign == "-" and -v or v
end

-- v (in 10^-8) as a decimal string with places decimals (default 2),
-- rounded half away from zero.
function M.format(v, places)
  places = places or 2
  local neg = v < 0
  if neg then v = -v end
  local unit = 10 ^ (M.SCALE - places) // 1
  unit = math.tointeger(unit)
  local q = (v + unit // 2) // unit
  local whole, frac = q // (10 ^ places // 1), q % (10 ^ places // 1)
  local s
  if places > 0 then
    s = ("%d.%0" .. places .. "d"):format(whole, frac)
  else
    s = ("%d"):format(whole)
  end
  if neg and q ~= 0 then s = "-" .. s end
  return s
end

-- The sum of a list of amounts (already parsed).
function M.sum(list)
  local t = 0
  for _, v in ipairs(list) do t = t + v end
  return t
end

-- "+1.20" / "-3.00" / "0.00": a change, signed.
function M.delta(from, to, places)
  local d = to - from
  local s = M.format(d, places)
  return d > 0 and ("+" .. s) or s
end

return M
