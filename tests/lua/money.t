#!/usr/bin/env tcrun
-- money.lua: Billing's decimal strings parsed and summed exactly, formatted
-- to the cent with half-away-from-zero rounding; no float ever.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local money = require "tcrun.money"

t.is(money.parse("19.90"), 1990000000, "19.90")
t.is(money.parse("0.00000001"), 1, "one unit: 10^-8 yuan")
t.is(money.parse("-3.5"), -350000000, "negative")
t.is(money.parse("7"), 700000000, "whole")
t.is(money.parse("1.100000000"), 110000000, "trailing zeros past 8 places are fine")
for _, bad in ipairs({ "1e3", "1,000.00", "", "abc", "1.000000001", "0x10", "--1", "1.2.3" }) do
  t.ok(money.parse(bad) == nil, ("%q is refused"):format(bad))
end
t.is(money.format(money.parse("19.90")), "19.90", "two places")
t.is(money.format(money.parse("0.005")), "0.01", "half rounds away from zero")
t.is(money.format(money.parse("-0.005")), "-0.01", "negative half away from zero")
t.is(money.format(money.parse("0.00499999")), "0.00", "below half rounds down")
t.is(money.format(money.parse("-0.001")), "0.00", "no negative zero")
t.is(money.format(money.parse("12.34567891"), 8), "12.34567891", "8 places kept")
t.is(money.format(money.parse("9999999999.99")), "9999999999.99", "large amounts stay exact")
t.ok(money.parse("99999999999.99") == nil, "larger than ten billion yuan is refused, not wrapped")

-- 0.1 + 0.2 the float way is 0.30000000000000004; here it is 0.30.
t.is(money.format(money.sum({ money.parse("0.1"), money.parse("0.2") }), 8), "0.30000000", "0.1 + 0.2")
-- A thousand lines of 0.00333333 sum exactly.
local list = {}
for i = 1, 1000 do list[i] = money.parse("0.00333333") end
t.is(money.format(money.sum(list), 8), "3.33333000", "a thousand small lines, exactly")
t.is(money.delta(money.parse("100"), money.parse("120")), "+20.00", "a rise")
t.is(money.delta(money.parse("120"), money.parse("100")), "-20.00", "a fall")
t.done()
