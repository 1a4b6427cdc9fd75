-- bench/validate.lua ROSTER: what onboard.lua does before its first call
-- (recipe.start: options, the whole roster, the business units it names),
-- then stops.  Exit 0 when the roster is clean, 2 when it has a problem.
local recipe = require "tcrun.recipe"
local run, code = recipe.start(arg, { name = "validate", roster = "employees", out = false,
                                      usage = "tcrun bench/validate.lua ROSTER" })
if not run then return code end
print(("%d employees"):format(#run.rows))
