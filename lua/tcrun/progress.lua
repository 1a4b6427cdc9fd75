-- progress.lua: progress of a long run.  On a terminal, one bar redrawn in
-- place on stderr; otherwise (cron, pipes) one plain log line per item,
-- saying `done` (or the word given, "planned" for a dry run) or FAILED,
-- or, when sparse (reads of no interest one by one), a count each tenth
-- (of a hundred items or more; else at the end only).
-- The bar says how long the rest should take, at the pace so far, once
-- there is a pace to go by (a tenth done, or half a minute gone; and a few
-- seconds at least).
local tc = require "tc"

local M = {}
M.__index = M

function M.new(total, label, done_word, sparse)
  return setmetatable({ total = total, done = 0, failed = 0, label = label, sparse = sparse,
                        word = done_word or "done", tty = tc.isatty(2), started = tc.clock() }, M)
end

-- "about N min left" at the pace so far, or "" while too early to say.
function M:left(now)
  local gone = (now or tc.clock()) - self.started
  if self.done == 0 or self.done >= self.total or gone < 3
     or (self.done * 10 < self.total and gone < 30) then return "" end
  local s = gone * (self.total - self.done) / self.done
  if s < 90 then return (", about %d s left"):format(math.max(1, math.floor(s + 0.5))) end
  return (", about %d min left"):format(math.floor(s / 60 + 0.5))
end

-- Counts one finished item; ok false counts it as failed.  word: what
-- the line says of it when ok, if not the bar's own word.
function M:step(name, ok, detail, word)
  self.done = self.done + 1
  if not ok then self.failed = self.failed + 1 end
  if self.tty then
    local width = 30
    local filled = math.floor(width * self.done / math.max(self.total, 1))
    io.stderr:write(("\r%s [%s%s] %d/%d%s%s\27[K"):format(self.label,
      ("#"):rep(filled), ("."):rep(width - filled), self.done, self.total,
      self.failed > 0 and (", " .. self.failed .. " failed") or "", self:left()))
    if self.done == self.total then io.stderr:write("\n") end
  elseif self.sparse then
    local parts = self.total >= 100 and 10 or 1
    if math.floor(parts * self.done / self.total) > math.floor(parts * (self.done - 1) / self.total) then
      tc.log(("%s [%d/%d]%s%s"):format(self.label, self.done, self.total,
        self.failed > 0 and (", " .. self.failed .. " failed") or "", self:left()))
    end
  else
    tc.log(("%s [%d/%d] %s: %s%s"):format(self.label, self.done, self.total, name,
      ok and (word or self.word) or "FAILED", detail and (" (" .. detail:gsub("%s*\n%s*", " ") .. ")") or ""))
  end
end

return M
