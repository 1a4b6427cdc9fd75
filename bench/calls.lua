-- bench/calls.lua N: N calls of cam.GetUser through tc.each, as many in
-- flight as --parallel allows.
local n = tonumber(arg[1]) or 1000
local rows = {}
for i = 1, n do rows[i] = i end
local ok, failures = tc.each(rows, function(i)
  tc.call("cam", "GetUser", { Name = "u" .. i })
end)
assert(ok == n and #failures == 0, "some calls failed")
