-- review_html.lua: the nightly permission review as one HTML page, for
-- people.  M.render(review) -> string: a self-contained HTML5 document
-- (inline CSS and script, nothing fetched: no URL, no font, no image) from
-- the review table the review recipe also writes as review.json:
--   header   generated time, tool, accounts, roster, window;
--   summary  counts by severity, by kind, by account (review.summary, or
--            counted from the findings when the review has none);
--   findings one table, sortable by a click on a column header (again for
--            descending), first by severity (high first), kind, principal;
--            "No findings" when there are none;
--   accepted the accepted findings with owner, ticket and expiry.
-- Everything from the review is text: names and details come from the
-- cloud and from rosters, so each is made printable (tc.printable: control
-- and bidirectional characters shown as escapes) and HTML-escaped.  The
-- Content-Security-Policy allows nothing but this module's own <style> and
-- <script>, named by their SHA-256: an injected element could not run even
-- if escaping failed somewhere.
-- The page also applies a sort named in its URL fragment at load:
-- #sort=principal (ascending) or #sort=-principal (descending); columns
-- are severity, kind, account, principal, detail, evidence, id.
local tc = require "tc"
local api = require "tcrun.api"
local json = require "tcrun.json"
local base64 = require "tcrun.base64"

local M = {}

M.SEVERITIES = { "high", "medium", "low" }
local RANK = { high = 1, medium = 2, low = 3 }

-- SHA-256 (FIPS 180-4) of a string, as 32 bytes; for the CSP hashes.
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function sha256(s)
  local M32 = 0xffffffff
  local function ror(x, n) return ((x >> n) | (x << (32 - n))) & M32 end
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local len = #s
  s = s .. "\x80" .. string.rep("\0", (55 - len) % 64) .. string.pack(">I8", len * 8)
  local w = {}
  for off = 1, #s, 64 do
    for i = 1, 16 do w[i] = string.unpack(">I4", s, off + (i - 1) * 4) end
    for i = 17, 64 do
      local a, b = w[i - 15], w[i - 2]
      local s0 = ror(a, 7) ~ ror(a, 18) ~ (a >> 3)
      local s1 = ror(b, 17) ~ ror(b, 19) ~ (b >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    end
    local a, b, c, d, e, f, g, hh = table.unpack(h)
    for i = 1, 64 do
      local t1 = (hh + (ror(e, 6) ~ ror(e, 11) ~ ror(e, 25)) + ((e & f) ~ (~e & g)) + K[i] + w[i]) & M32
      local t2 = ((ror(a, 2) ~ ror(a, 13) ~ ror(a, 22)) + ((a & b) ~ (a & c) ~ (b & c))) & M32
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
    end
    local v = { a, b, c, d, e, f, g, hh }
    for i = 1, 8 do h[i] = (h[i] + v[i]) & M32 end
  end
  return string.pack(">I4I4I4I4I4I4I4I4", table.unpack(h))
end

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

-- v as display text: printable (no control or bidirectional characters
-- left to act), then HTML-escaped for text or a quoted attribute.
local function text(v)
  if v == nil or v == json.null then return "" end
  if math.type(v) == "integer" then v = ("%d"):format(v)
  elseif type(v) == "number" then v = ("%.14g"):format(v)
  elseif type(v) == "table" then v = json.encode(v)
  else v = tostring(v) end
  return (tc.printable(v):gsub("[&<>\"']", ESC))
end
M.escape = text

local function str(v)
  if v == nil or v == json.null then return "" end
  return tostring(v)
end

local STYLE = [[
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff;
  --alt: #f6f8fa; --high: #b42318; --medium: #b54708; --low: #175cd3; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
header dt { color: var(--muted); }
header dd { margin: 0; }
header ul { margin: 0; padding: 0; list-style: none; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 16px; }
.card { min-width: 120px; padding: 10px 16px; border: 1px solid var(--line); border-radius: 8px; background: var(--alt); }
.card .n { display: block; font-size: 28px; font-weight: 700; line-height: 1.1; }
.card .l { color: var(--muted); }
.card.sev-high { border-color: var(--high); border-left: 6px solid var(--high); }
.card.sev-medium { border-color: var(--medium); border-left: 6px solid var(--medium); }
.card.sev-low { border-color: var(--low); border-left: 6px solid var(--low); }
.card.sev-high .n { color: var(--high); }
.card.sev-medium .n { color: var(--medium); }
.card.sev-low .n { color: var(--low); }
.breakdown { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.breakdown > div { min-width: 260px; }
table { border-collapse: collapse; width: 100%; }
.breakdown table { width: auto; min-width: 260px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--alt); font-weight: 600; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: var(--alt); }
td { overflow-wrap: anywhere; }
th button { all: unset; cursor: pointer; display: block; width: 100%; }
th button:focus-visible { outline: 2px solid var(--low); }
th button::after { content: " \2195"; color: var(--muted); }
th[aria-sort="ascending"] button::after { content: " \25B2"; color: var(--fg); }
th[aria-sort="descending"] button::after { content: " \25BC"; color: var(--fg); }
.sev { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-weight: 600; font-size: 12px; }
.sev.sev-high { background: var(--high); }
.sev.sev-medium { background: var(--medium); }
.sev.sev-low { background: var(--low); }
.sev.sev-other { background: var(--muted); }
.ev { margin: 0; }
.ev div { padding-left: 1em; text-indent: -1em; }
.ev .k { color: var(--muted); }
.empty { padding: 12px 16px; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); font-size: 16px; }
.expired { color: var(--high); font-weight: 600; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { th button::after { content: ""; } body { padding: 0; } }
]]

-- Sorts every table.sortable by a click on a header button (asc, then
-- desc); cells sort by data-sort, else by their text, case-insensitively
-- first; ties keep the page's own order (data-i).  #sort=col / #sort=-col
-- in the URL applies a sort to the findings table at load.
local SCRIPT = [[
"use strict";
(function () {
  function key(row, col) {
    var c = row.cells[col];
    if (!c) return "";
    return c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent.trim();
  }
  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  function sortTable(table, name, dir) {
    var ths = table.tHead.rows[0].cells, col = -1, i;
    for (i = 0; i < ths.length; i++) {
      if (ths[i].getAttribute("data-col") === name) col = i;
    }
    if (col < 0) return false;
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var sign = dir === "descending" ? -1 : 1;
    rows.sort(function (a, b) {
      var ka = key(a, col), kb = key(b, col);
      var r = cmp(ka.toLowerCase(), kb.toLowerCase()) || cmp(ka, kb);
      return r * sign || (+a.getAttribute("data-i")) - (+b.getAttribute("data-i"));
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (i = 0; i < ths.length; i++) {
      if (i === col) ths[i].setAttribute("aria-sort", dir);
      else ths[i].removeAttribute("aria-sort");
    }
    return true;
  }
  window.tcrunSort = sortTable;
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var b = th.querySelector("button");
      if (!b) return;
      b.addEventListener("click", function () {
        var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
        sortTable(table, th.getAttribute("data-col"), dir);
      });
    });
  });
  function fromHash() {
    var m = /^#sort=(-?)([a-z]+)$/.exec(location.hash);
    var t = document.getElementById("findings");
    if (m && t) sortTable(t, m[2], m[1] ? "descending" : "ascending");
  }
  fromHash();
  window.addEventListener("hashchange", fromHash);
})();
]]

-- A CSP source that allows exactly the text s (a style or a script).
local function hash(s) return "'sha256-" .. base64.encode(sha256(s)) .. "'" end
M.csp_hash = hash

M.CSP = ("default-src 'none'; style-src %s; script-src %s; img-src 'none'; "
  .. "base-uri 'none'; form-action 'none'"):format(hash(STYLE), hash(SCRIPT))

local function sev_rank(s) return RANK[s] or 4 end

-- The findings in the page's default order: severity (high first), kind,
-- principal, then account and id for a stable order.
local function default_order(list)
  local out = {}
  for i, f in ipairs(list or {}) do out[i] = f end
  table.sort(out, function(a, b)
    local ra, rb = sev_rank(a.severity), sev_rank(b.severity)
    if ra ~= rb then return ra < rb end
    if str(a.severity) ~= str(b.severity) then return str(a.severity) < str(b.severity) end
    for _, k in ipairs { "kind", "principal", "account", "id" } do
      if str(a[k]) ~= str(b[k]) then return str(a[k]) < str(b[k]) end
    end
    return false
  end)
  return out
end
M.default_order = default_order

local sorted_keys = api.sorted_keys

-- Counts by severity, kind and account from a list of findings, for a
-- review without a summary.
local function count(findings, accepted)
  local s = { total = #findings, accepted = #(accepted or {}), by_severity = {}, by_kind = {}, by_account = {} }
  for _, f in ipairs(findings) do
    for field, t in pairs { severity = s.by_severity, kind = s.by_kind, account = s.by_account } do
      local k = str(f[field])
      t[k] = (t[k] or 0) + 1
    end
  end
  return s
end

local function severity_badge(s)
  local cls = RANK[s] and s or "other"
  return ('<span class="sev sev-%s">%s</span>'):format(cls, text(s))
end

-- Evidence as compact "key: value" lines; a list as its values joined by
-- ", ".
local function evidence(ev)
  if ev == nil or ev == json.null then return "" end
  if type(ev) ~= "table" then return '<div class="ev">' .. text(ev) .. "</div>" end
  local out = { '<div class="ev">' }
  for _, k in ipairs(sorted_keys(ev)) do
    local v = ev[k]
    if type(v) == "table" then
      local scalar = true
      for _, x in pairs(v) do if type(x) == "table" then scalar = false end end
      if scalar and #v > 0 or next(v) == nil then
        local parts = {}
        for i = 1, #v do parts[i] = text(v[i]) end
        v = table.concat(parts, ", ")
      else
        v = text(v)
      end
    else
      v = text(v)
    end
    out[#out + 1] = ('<div><span class="k">%s</span>: <span class="v">%s</span></div>'):format(text(k), v)
  end
  out[#out + 1] = "</div>"
  return table.concat(out)
end

local FINDING_COLS = { "severity", "kind", "account", "principal", "detail", "evidence", "id" }
local ACCEPTED_COLS = { "severity", "kind", "account", "principal", "detail", "owner", "ticket", "expires", "id" }

local function header_row(cols)
  local out = { "<thead><tr>" }
  for _, c in ipairs(cols) do
    out[#out + 1] = ('<th scope="col" data-col="%s"><button type="button">%s</button></th>')
      :format(c, c:sub(1, 1):upper() .. c:sub(2))
  end
  out[#out + 1] = "</tr></thead>"
  return table.concat(out)
end

local function cell(col, f, today)
  if col == "severity" then
    return ('<td data-sort="%d">%s</td>'):format(sev_rank(f.severity), severity_badge(f.severity))
  elseif col == "evidence" then
    return "<td>" .. evidence(f.evidence) .. "</td>"
  elseif col == "account" or col == "kind" then
    return '<td class="nowrap">' .. text(f[col]) .. "</td>"
  elseif col == "id" or col == "principal" then
    return '<td class="mono">' .. text(f[col]) .. "</td>"
  elseif col == "owner" or col == "ticket" or col == "expires" then
    local a = type(f.acceptance) == "table" and f.acceptance or {}
    local v = a[col]
    if col == "expires" and type(v) == "string" and today and v:sub(1, 10) < today then
      return ('<td class="expired">%s (expired)</td>'):format(text(v))
    end
    return "<td>" .. text(v) .. "</td>"
  end
  return "<td>" .. text(f[col]) .. "</td>"
end

local function findings_table(id, cols, list, today)
  local out = { ('<table id="%s" class="sortable">'):format(id), header_row(cols), "<tbody>" }
  for i, f in ipairs(list) do
    local sev = RANK[f.severity] and f.severity or "other"
    out[#out + 1] = ('<tr class="sev-%s" data-i="%d">'):format(sev, i)
    for _, c in ipairs(cols) do out[#out + 1] = cell(c, f, today) end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out, "\n")
end

-- A two-column table of counts, biggest first (then by name).
local function count_table(id, title, counts, order)
  local keys = sorted_keys(counts)
  if order == "count" then
    table.sort(keys, function(a, b)
      if counts[a] ~= counts[b] then return counts[a] > counts[b] end
      return tostring(a) < tostring(b)
    end)
  end
  local out = { ('<div><h3>%s</h3><table id="%s"><thead><tr><th scope="col">%s</th><th scope="col">Findings</th></tr></thead><tbody>')
    :format(title, id, (title:match("^By (.*)$"):gsub("^%l", string.upper))) }
  for _, k in ipairs(keys) do
    out[#out + 1] = ('<tr data-key="%s"><td>%s</td><td class="n">%s</td></tr>'):format(text(k), text(k), text(counts[k]))
  end
  if #keys == 0 then out[#out + 1] = '<tr><td colspan="2">none</td></tr>' end
  out[#out + 1] = "</tbody></table></div>"
  return table.concat(out, "\n")
end

local function card(id, cls, n, label)
  return ('<div class="card%s" id="%s"><span class="n">%s</span><span class="l">%s</span></div>')
    :format(cls and (" " .. cls) or "", id, text(n or 0), label)
end

-- The page for review (the table review.json holds).
function M.render(review)
  assert(type(review) == "table", "review_html.render: review must be a table")
  local findings = type(review.findings) == "table" and review.findings or {}
  local accepted = type(review.accepted) == "table" and review.accepted or {}
  local summary = type(review.summary) == "table" and review.summary or count(findings, accepted)
  local by_sev = type(summary.by_severity) == "table" and summary.by_severity or {}
  local today = type(review.generated) == "string" and review.generated:match("^%d%d%d%d%-%d%d%-%d%d") or nil

  local out = {}
  local function w(s) out[#out + 1] = s end
  w("<!DOCTYPE html>")
  w('<html lang="en"><head><meta charset="utf-8">')
  w(('<meta http-equiv="Content-Security-Policy" content="%s">'):format(M.CSP))
  w('<meta name="referrer" content="no-referrer">')
  w('<meta name="viewport" content="width=device-width, initial-scale=1">')
  w(("<title>Permission review %s</title>"):format(text(review.generated)))
  w("<style>" .. STYLE .. "</style>")
  w("</head><body>")

  -- Header.
  w('<header><h1>Permission review</h1><dl id="meta">')
  w(('<dt>Generated</dt><dd id="generated">%s</dd>'):format(text(review.generated)))
  local accts = {}
  for _, a in ipairs(type(review.accounts) == "table" and review.accounts or {}) do
    if type(a) == "table" then
      accts[#accts + 1] = ("<li>%s (%s)</li>"):format(text(a.name), text(a.uin))
    else
      accts[#accts + 1] = "<li>" .. text(a) .. "</li>"
    end
  end
  w(('<dt>Accounts reviewed</dt><dd id="accounts"><ul>%s</ul></dd>')
    :format(#accts > 0 and table.concat(accts) or "<li>none</li>"))
  w(('<dt>Roster</dt><dd id="roster">%s</dd>'):format(text(review.roster)))
  local wd = review.window_days
  w(('<dt>Window</dt><dd id="window">%s</dd>'):format(
    wd ~= nil and wd ~= json.null and ("last %s day%s"):format(text(wd), wd == 1 and "" or "s") or "not given"))
  if review.tool ~= nil then w(('<dt>Tool</dt><dd id="tool">%s</dd>'):format(text(review.tool))) end
  w("</dl></header>")

  -- Summary.
  w('<main><section id="summary"><h2>Summary</h2><div class="cards">')
  w(card("sum-total", nil, summary.total, "findings"))
  w(card("sum-accepted", nil, summary.accepted, "accepted"))
  local seen = {}
  for _, s in ipairs(M.SEVERITIES) do
    seen[s] = true
    w(card("sum-sev-" .. s, "sev-" .. s, by_sev[s], s))
  end
  for _, s in ipairs(sorted_keys(by_sev)) do
    if not seen[s] then w(card("sum-sev-other-" .. text(s), "sev-other", by_sev[s], text(s))) end
  end
  w('</div><div class="breakdown">')
  w(count_table("by-kind", "By kind", type(summary.by_kind) == "table" and summary.by_kind or {}, "count"))
  w(count_table("by-account", "By account", type(summary.by_account) == "table" and summary.by_account or {}))
  w("</div></section>")

  -- Findings.
  w(('<section id="findings-section"><h2>Findings (%d)</h2>'):format(#findings))
  if #findings == 0 then
    w('<p class="empty" id="no-findings">No findings</p>')
  else
    w(findings_table("findings", FINDING_COLS, default_order(findings), today))
  end
  w("</section>")

  -- Accepted.
  w(('<section id="accepted-section"><h2>Accepted (%d)</h2>'):format(#accepted))
  if #accepted == 0 then
    w('<p class="empty" id="no-accepted">No accepted findings</p>')
  else
    local list = default_order(accepted)
    w(findings_table("accepted", ACCEPTED_COLS, list, today))
  end
  w("</section></main>")

  w(("<footer>%s. Click a column header to sort; click again to reverse.</footer>")
    :format(review.tool ~= nil and ("Made by " .. text(review.tool)) or "Made by tcrun"))
  w("<script>" .. SCRIPT .. "</script>")
  w("</body></html>")
  return table.concat(out, "\n") .. "\n"
end

return M
