-- progress.lua: progress of a long run.  On a terminal, one bar redrawn in
-- place on stderr; otherwise (cron, pipes) one plain log line per item,
-- saying `done` (or the word given, "planned" for a dry run) or FAILED.
local tc = require "tc"

local M = {}
M.__index = M

function M.new(total, label, done_word)
  return setmetatable({ total = total, done = 0, failed = 0, label = label,
                        word = done_word or "done", tty = tc.isatty(2) }, M)
end

-- Counts one finished item; ok false counts it as failed.
function M:step(name, ok, detail)
  self.done = self.done + 1
  if not ok then self.failed = self.failed + 1 end
  if self.tty then
    local width = 30
    local filled = math.floor(width * self.done / math.max(self.total, 1))
    io.stderr:write(("\r%s [%s%s] %d/%d%s"):format(self.label,
      ("#"):rep(filled), ("."):rep(width - filled), self.done, self.total,
      self.failed > 0 and (", " .. self.failed .. " failed") or ""))
    if self.done == self.total then io.stderr:write("\n") end
  else
    tc.log(("%s [%d/%d] %s: %s%s"):format(self.label, self.done, self.total, name,
      ok and self.word or "FAILED", detail and (" (" .. detail:gsub("%s*\n%s*", " ") .. ")") or ""))
  end
end

return M
