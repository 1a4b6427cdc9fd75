-- cost_html.lua: the monthly cost report as one HTML page, for people.
-- M.render(cost) -> string: a self-contained HTML5 document (inline CSS
-- and inline SVG, no script, nothing fetched: no URL, no font, no image)
-- from the table the cost recipe also writes as cost.json:
--   header     month, compared month, accounts, generated time, tool;
--   reconcile  the report's total against the bill's own, with a visible
--              warning when they differ (the difference computed exactly,
--              in cents);
--   charts     inline SVG drawn here: by business unit, by environment,
--              the top 10 employees (leavers marked), and the workspace
--              model (price x (1 + N)) against the actual workspace spend,
--              overall and per employee;
--   tables     every group (biggest amount first), unattributed resources,
--              leavers' spend, month-over-month changes (with a compared
--              month), the cost-allocation tag warning.
-- Amounts are decimal strings ("412.37") and are shown exactly as given,
-- never through a float: ordering and differences use integer cents, and
-- floats only set the length of a bar.  Every element that shows an amount
-- carries it in data-amount, and its text is exactly that string, so a
-- test can read the figures from the DOM:
--   #total, #bill-total             the two totals (#reconcile has
--                                   data-status "ok", "mismatch" or
--                                   "no-bill-total");
--   table#group-<group> tr[data-key] td[data-amount]   each group's rows
--                                   (groups: employee, business_unit,
--                                   environment, cost_center, account, and
--                                   any other the report has);
--   svg#chart-business_unit, #chart-environment, #chart-top-employees,
--   #chart-model, #chart-model-employees: g.item[data-key] holding one
--                                   rect.bar and a text.value[data-amount]
--                                   (model charts: data-series "model" or
--                                   "actual"; leavers: g.item.leaver);
--   table#unattributed, #leavers, #changes-groups, #changes-new,
--   #changes-vanished               rows with td[data-amount];
--   #no-<section>                   the "nothing here" paragraphs.
-- Everything from the report is text (tag values come from whoever tagged
-- a resource): made printable (tc.printable) and HTML-escaped by
-- review_html.escape.  The Content-Security-Policy allows only this
-- module's own <style>, by its SHA-256, and no script at all.
local tc = require "tc"
local json = require "tcrun.json"
local review_html = require "tcrun.review_html"

local M = {}

local text = review_html.escape

-- The groups in the page's order; any other group the report has follows,
-- by name.
M.GROUPS = { "employee", "business_unit", "environment", "cost_center", "account" }
local GROUP_TITLE = {
  employee = "Employee", business_unit = "Business unit", environment = "Environment",
  cost_center = "Cost center", account = "Account",
}

local function present(v) return v ~= nil and v ~= json.null end
local function list(v) return type(v) == "table" and v or {} end

-- An amount as the report spelled it (a decimal string; a JSON number is
-- shown as tcrun.json read it).
local function amount_str(v)
  if not present(v) then return "" end
  if math.type(v) == "integer" then return ("%d"):format(v) end
  if type(v) == "number" then return ("%.14g"):format(v) end
  return tostring(v)
end

-- An amount as integer cents, or nil when it is not a decimal with at most
-- two places.
local function cents(v)
  local s = amount_str(v)
  local sign, int, frac = s:match("^%s*([+-]?)(%d+)%.?(%d*)%s*$")
  if not int or #frac > 2 or #int > 15 or (frac == "" and s:find("%.%s*$")) then return nil end
  local c = tonumber(int) * 100 + tonumber(((frac .. "00"):sub(1, 2)))
  return sign == "-" and -c or c
end
M._cents = cents  -- for tests

local function fmt_cents(c)
  local sign = c < 0 and "-" or ""
  c = math.abs(c)
  return ("%s%d.%02d"):format(sign, c // 100, c % 100)
end

-- Items sorted by amount, biggest first; amounts that are not decimals
-- last; then by key (and the given order) for a stable page.
local function by_amount(items, field, keyfield)
  field, keyfield = field or "amount", keyfield or "key"
  local out = {}
  for i, it in ipairs(list(items)) do
    if type(it) == "table" then out[#out + 1] = { it = it, i = i, c = cents(it[field]) } end
  end
  table.sort(out, function(a, b)
    if (a.c == nil) ~= (b.c == nil) then return a.c ~= nil end
    if a.c and a.c ~= b.c then return a.c > b.c end
    local ka, kb = amount_str(a.it[keyfield]), amount_str(b.it[keyfield])
    if ka ~= kb then return ka < kb end
    return a.i < b.i
  end)
  for i, x in ipairs(out) do out[i] = x.it end
  return out
end
M.by_amount = by_amount

-- An amount shown in HTML or SVG text: the exact string, also in
-- data-amount.
local function amt(v, tag, attrs)
  local s = text(amount_str(v))
  tag = tag or "span"
  return ('<%s%s data-amount="%s">%s</%s>'):format(tag, attrs or "", s, s, tag)
end

-- At most n characters of printable text (for a chart label; the full
-- text is in the item's <title> and in the tables), HTML-escaped.
local function short(v, n)
  local s = tc.printable(amount_str(v))
  local len = utf8.len(s)
  if len and len > n then s = s:sub(1, utf8.offset(s, n) - 1) .. "\u{2026}" end
  return text(s)
end

-- A number for an SVG attribute.
local function num(x) return ("%.1f"):format(x) end

-- A safe id fragment for a group name from the report.
local function id_part(s)
  return (tostring(s):gsub("[^%w_-]", "_"))
end

local STYLE = [[
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff;
  --alt: #f6f8fa; --bar: #2f6fde; --bar2: #8a63d2; --leaver: #c4320a; --ok: #067647; --warn: #b42318;
  --warnbg: #fef3f2; }
* { box-sizing: border-box; }
body { margin: 0; padding: 20px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 14px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
header dt { color: var(--muted); }
header dd { margin: 0; }
header ul { margin: 0; padding: 0; list-style: none; }
.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
.num, td.n { font-variant-numeric: tabular-nums; }
td.n, th.n { text-align: right; white-space: nowrap; }
#reconcile { margin: 16px 0 0; padding: 10px 16px; border: 1px solid var(--line); border-left: 6px solid var(--ok);
  border-radius: 8px; background: var(--alt); font-size: 15px; }
#reconcile .big { font-size: 20px; font-weight: 700; }
#reconcile.mismatch, #reconcile.no-bill-total { border-color: var(--warn); border-left-color: var(--warn);
  background: var(--warnbg); }
.warning { color: var(--warn); font-weight: 700; }
.ok { color: var(--ok); font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 16px 32px; align-items: flex-start; }
figure { margin: 0; max-width: 100%; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; fill: var(--fg); }
svg text.value { font-variant-numeric: tabular-nums; }
svg text.axis { fill: var(--muted); }
svg .axisline { stroke: var(--muted); stroke-width: 1; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg rect.bar { fill: var(--bar); }
svg g.leaver rect.bar { fill: var(--leaver); }
svg text.mark { fill: var(--leaver); font-weight: 700; }
svg g.neg rect.bar { fill: var(--muted); }
svg g[data-series="model"] rect.bar { fill: var(--bar2); }
.legend { color: var(--muted); font-size: 12px; margin: 2px 0 0; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: baseline; }
.swatch.bar { background: var(--bar); }
.swatch.bar2 { background: var(--bar2); }
.swatch.leaver { background: var(--leaver); }
.tables { display: flex; flex-wrap: wrap; gap: 8px 32px; align-items: flex-start; }
.tables > div { min-width: 280px; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--alt); font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--alt); }
td { overflow-wrap: anywhere; }
.empty { padding: 10px 16px; border: 1px dashed var(--line); border-radius: 8px; color: var(--muted); font-size: 15px; }
#allocation-tags { padding: 10px 16px; border: 1px solid var(--warn); border-left: 6px solid var(--warn);
  border-radius: 8px; background: var(--warnbg); }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { body { padding: 0; } }
]]

M.CSP = ("default-src 'none'; style-src %s; script-src 'none'; img-src 'none'; "
  .. "base-uri 'none'; form-action 'none'"):format(review_html.csp_hash(STYLE))

-- --- charts ---

-- The largest absolute value of the items' cents (at least 1), for scale.
local function scale_of(cs)
  local m = 1
  for _, c in ipairs(cs) do if c and math.abs(c) > m then m = math.abs(c) end end
  return m
end

-- The <svg> opening with its accessible name and description.
local function svg_open(id, w, h, title, desc)
  return table.concat {
    ('<svg id="%s" class="chart" width="%d" height="%d" viewBox="0 0 %d %d" role="img" '
      .. 'aria-labelledby="%s-title %s-desc" aria-label="%s">'):format(id, w, h, w, h, id, id, title),
    ('<title id="%s-title">%s</title>'):format(id, title),
    ('<desc id="%s-desc">%s</desc>'):format(id, desc),
  }
end

-- "key: amount; ..." for a chart's description.
local function describe(items, keyf, valf, currency)
  local parts = {}
  for i, it in ipairs(items) do
    parts[i] = ("%s: %s %s"):format(text(keyf(it)), text(amount_str(valf(it))), currency)
  end
  return #parts > 0 and table.concat(parts, "; ") or "no items"
end

-- A vertical bar chart of items ({key, amount}), biggest first: a value
-- label above each bar, the key below it.
local function column_chart(id, title, axis, items, currency)
  local n = #items
  local slot, top, bottom, left = 84, 34, 42, 56
  local plot_h = 170
  local w = math.max(360, left + n * slot + 16)
  local h = top + plot_h + bottom
  local cs = {}
  for i, it in ipairs(items) do cs[i] = cents(it.amount) end
  local max = scale_of(cs)
  local base = top + plot_h
  local out = {
    svg_open(id, w, h, text(title), describe(items, function(it) return it.key end,
      function(it) return it.amount end, currency)),
    ('<text class="axis" x="%d" y="14">Amount (%s)</text>'):format(left - 44, currency),
    ('<line class="grid" x1="%d" y1="%d" x2="%d" y2="%d"></line>'):format(left, top, w - 8, top),
    ('<line class="axisline" x1="%d" y1="%d" x2="%d" y2="%d"></line>'):format(left, top, left, base),
    ('<line class="axisline" x1="%d" y1="%d" x2="%d" y2="%d"></line>'):format(left, base, w - 8, base),
    ('<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>'):format(left - 4, top + 4, text(fmt_cents(max))),
    ('<text class="axis" x="%d" y="%d" text-anchor="end">0</text>'):format(left - 4, base + 4),
    ('<text class="axis" x="%s" y="%d" text-anchor="middle">%s</text>'):format(num(left + (w - 8 - left) / 2), h - 4, text(axis)),
  }
  for i, it in ipairs(items) do
    local c = cs[i] or 0
    local bh = plot_h * math.abs(c) / max
    local x = left + (i - 1) * slot + 14
    local bw = slot - 28
    out[#out + 1] = ('<g class="item%s" data-key="%s"><title>%s: %s %s</title>'):format(
      c < 0 and " neg" or "", text(it.key), text(it.key), text(amount_str(it.amount)), currency)
    out[#out + 1] = ('<rect class="bar" x="%s" y="%s" width="%s" height="%s"></rect>'):format(
      num(x), num(base - bh), num(bw), num(bh))
    out[#out + 1] = amt(it.amount, "text", (' class="value" x="%s" y="%s" text-anchor="middle"'):format(
      num(x + bw / 2), num(base - bh - 4)))
    out[#out + 1] = ('<text class="label" x="%s" y="%d" text-anchor="middle">%s</text></g>'):format(
      num(x + bw / 2), base + 16, short(it.key, 13))
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- A horizontal bar chart: rows of {key, value, series, class, mark}; the
-- key at the left, the value label after the bar.
local function bar_chart(id, title, axis, rows, currency, desc)
  local left, top, rowh, barw, right = 176, 28, 26, 380, 150
  local w = left + barw + right
  local h = top + #rows * rowh + 30
  local cs = {}
  for i, r in ipairs(rows) do cs[i] = cents(r.value) end
  local max = scale_of(cs)
  local out = {
    svg_open(id, w, h, text(title), desc),
    ('<text class="axis" x="%d" y="14" text-anchor="end">%s</text>'):format(left - 8, text(axis)),
    ('<text class="axis" x="%d" y="14">Amount (%s)</text>'):format(left, currency),
    ('<line class="axisline" x1="%d" y1="%d" x2="%d" y2="%d"></line>'):format(left, top - 4, left, top + #rows * rowh),
  }
  for i, r in ipairs(rows) do
    local c = cs[i] or 0
    local y = top + (i - 1) * rowh
    local bl = barw * math.abs(c) / max
    local cls = (r.class and (" " .. r.class) or "") .. (c < 0 and " neg" or "")
    out[#out + 1] = ('<g class="item%s" data-key="%s"%s><title>%s%s: %s %s</title>'):format(
      cls, text(r.key), r.series and (' data-series="%s"'):format(r.series) or "",
      text(r.label or r.key), r.mark and (" (" .. r.mark .. ")") or "", text(amount_str(r.value)), currency)
    if r.show_label ~= false then
      out[#out + 1] = ('<text class="label" x="%d" y="%d" text-anchor="end">%s</text>'):format(
        left - 8, y + 15, short(r.label or r.key, 24))
    end
    out[#out + 1] = ('<rect class="bar" x="%d" y="%d" width="%s" height="%d"></rect>'):format(
      left, y + 4, num(bl), rowh - 8)
    out[#out + 1] = amt(r.value, "text", (' class="value" x="%s" y="%d"'):format(num(left + bl + 6), y + 15))
    if r.mark then
      out[#out + 1] = ('<text class="mark" x="%s" y="%d">%s</text>'):format(
        num(left + bl + 6 + 7 * #amount_str(r.value) + 8), y + 15, r.mark)
    end
    out[#out + 1] = "</g>"
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

local function empty(id, msg) return ('<p class="empty" id="%s">%s</p>'):format(id, msg) end

-- --- tables ---

local function th(cols)
  local out = { "<thead><tr>" }
  for _, c in ipairs(cols) do
    out[#out + 1] = ('<th scope="col"%s>%s</th>'):format(c.n and ' class="n"' or "", c.title)
  end
  out[#out + 1] = "</tr></thead>"
  return table.concat(out)
end

-- A table of items, columns {title, field, n (an amount), mono}.
local function tabulate(id, cols, items, rowattrs)
  local out = { ('<table id="%s">'):format(id), th(cols), "<tbody>" }
  for _, it in ipairs(items) do
    out[#out + 1] = "<tr" .. (rowattrs and rowattrs(it) or "") .. ">"
    for _, c in ipairs(cols) do
      local v = it[c.field]
      if c.n then
        out[#out + 1] = present(v) and amt(v, "td", ' class="n"') or '<td class="n"></td>'
      elseif c.render then
        out[#out + 1] = "<td>" .. c.render(v, it) .. "</td>"
      else
        out[#out + 1] = ("<td%s>%s</td>"):format(c.mono and ' class="mono"' or "", text(amount_str(v)))
      end
    end
    out[#out + 1] = "</tr>"
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out, "\n")
end

local function group_names(groups)
  local names, seen = {}, {}
  for _, g in ipairs(M.GROUPS) do
    names[#names + 1] = g
    seen[g] = true
  end
  local extra = {}
  for k in pairs(groups) do if not seen[k] then extra[#extra + 1] = tostring(k) end end
  table.sort(extra)
  for _, k in ipairs(extra) do names[#names + 1] = k end
  return names
end

local function group_table(name, items, currency, compare)
  local id = "group-" .. id_part(name)
  local title = GROUP_TITLE[name] or text(name)
  local sorted = by_amount(items)
  local has_compare = false
  for _, it in ipairs(sorted) do if present(it.compare) then has_compare = true end end
  local cols = { { title = title, field = "key" } }
  if name == "employee" then
    cols[#cols + 1] = { title = "Business unit", field = "business_unit" }
    cols[#cols + 1] = { title = "Leaver", field = "leaver",
                        render = function(v) return v == true and '<span class="warning">leaver</span>' or "" end }
  end
  cols[#cols + 1] = { title = ("Amount (%s)"):format(currency), field = "amount", n = true }
  if has_compare then
    cols[#cols + 1] = { title = ("%s (%s)"):format(compare and text(compare) or "Previous", currency),
                        field = "compare", n = true }
  end
  local out = { ('<div><h3>%s (%d)</h3>'):format(title, #sorted) }
  if #sorted == 0 then
    out[#out + 1] = empty("no-" .. id, "No spend by " .. title:lower())
  else
    out[#out + 1] = tabulate(id, cols, sorted, function(it)
      return ('%s data-key="%s"'):format(it.leaver == true and ' class="leaver"' or "", text(amount_str(it.key)))
    end)
  end
  out[#out + 1] = "</div>"
  return table.concat(out, "\n")
end

-- The page for cost (the table cost.json holds).
function M.render(cost)
  assert(type(cost) == "table", "cost_html.render: cost must be a table")
  local currency = present(cost.currency) and text(cost.currency) or "CNY"
  local groups = type(cost.groups) == "table" and cost.groups or {}
  local compare = present(cost.compare) and cost.compare or nil
  local out = {}
  local function w(s) out[#out + 1] = s end

  w("<!DOCTYPE html>")
  w('<html lang="en"><head><meta charset="utf-8">')
  w(('<meta http-equiv="Content-Security-Policy" content="%s">'):format(M.CSP))
  w('<meta name="referrer" content="no-referrer">')
  w('<meta name="viewport" content="width=device-width, initial-scale=1">')
  w(("<title>Cost report %s</title>"):format(text(cost.month)))
  w("<style>" .. STYLE .. "</style>")
  w("</head><body>")

  -- Header.
  w(('<header><h1>Cost report <span id="month">%s</span></h1><dl id="meta">'):format(text(cost.month)))
  if cost.month_status and cost.month_status ~= "closed" then
    w(('<dt>Month</dt><dd id="month-status" class="warn"><strong>%s: figures to date, not the '
       .. 'month\'s bill</strong></dd>'):format(text(cost.month_status)))
  end
  w(('<dt>Compared with</dt><dd id="compare-month">%s</dd>'):format(
    compare and text(compare) or "no comparison month"))
  local accts = {}
  for _, a in ipairs(list(cost.accounts)) do
    if type(a) == "table" then
      accts[#accts + 1] = ('<li data-uin="%s">%s (<span class="mono">%s</span>)</li>')
        :format(text(a.uin), text(a.name), text(a.uin))
    else
      accts[#accts + 1] = "<li>" .. text(a) .. "</li>"
    end
  end
  w(('<dt>Accounts</dt><dd id="accounts"><ul>%s</ul></dd>')
    :format(#accts > 0 and table.concat(accts) or "<li>none</li>"))
  w(('<dt>Currency</dt><dd id="currency">%s</dd>'):format(currency))
  w(('<dt>Generated</dt><dd id="generated">%s</dd>'):format(text(cost.generated)))
  if present(cost.tool) then w(('<dt>Tool</dt><dd id="tool">%s</dd>'):format(text(cost.tool))) end
  w("</dl>")

  -- Reconciliation.
  local tc_, bc = cents(cost.total), cents(cost.bill_total)
  local status
  if not present(cost.bill_total) then status = "no-bill-total"
  elseif tc_ and bc then status = tc_ == bc and "ok" or "mismatch"
  else status = amount_str(cost.total) == amount_str(cost.bill_total) and "ok" or "mismatch" end
  w(('<p id="reconcile" class="%s" data-status="%s">'):format(status, status))
  w(('Report total <span class="big">%s %s</span>'):format(amt(cost.total, "span", ' id="total"'), currency))
  if status == "no-bill-total" then
    w('<br><span class="warning" id="reconcile-warning">Warning: no bill total to reconcile with.</span>')
  else
    w(('&middot; bill total <span class="big">%s %s</span>'):format(
      amt(cost.bill_total, "span", ' id="bill-total"'), currency))
    if status == "ok" then
      w('<br><span class="ok" id="reconcile-ok">Reconciled: the report total equals the bill total.</span>')
    else
      local diff = tc_ and bc and fmt_cents(tc_ - bc) or nil
      w(('<br><span class="warning" id="reconcile-warning" role="alert">Warning: the report total differs '
        .. 'from the bill total%s.</span>'):format(
        diff and (' by %s %s'):format(amt(diff, "span", ' id="reconcile-diff"'), currency) or ""))
    end
  end
  w("</p></header><main>")

  -- Charts.
  w('<section id="charts"><h2>Charts</h2><div class="charts">')
  for _, g in ipairs { { "business_unit", "By business unit", "Business unit" },
                       { "environment", "By environment", "Environment" } } do
    local items = {}
    for _, it in ipairs(by_amount(groups[g[1]])) do items[#items + 1] = it end
    w(('<figure id="figure-%s"><figcaption>%s</figcaption>'):format(g[1], g[2]))
    if #items == 0 then
      w(empty("no-chart-" .. g[1], "No spend by " .. g[3]:lower()))
    else
      w(column_chart("chart-" .. g[1], g[2] .. " (" .. currency .. ")", g[3], items, currency))
    end
    w("</figure>")
  end

  -- Top 10 employees.
  local emps = by_amount(groups.employee)
  local top = {}
  for i = 1, math.min(10, #emps) do
    local e = emps[i]
    top[i] = { key = e.key, value = e.amount, class = e.leaver == true and "leaver" or nil,
               mark = e.leaver == true and "leaver" or nil }
  end
  w(('<figure id="figure-top-employees"><figcaption>Top %d employees</figcaption>'):format(#top))
  if #top == 0 then
    w(empty("no-chart-top-employees", "No spend by employee"))
  else
    w(bar_chart("chart-top-employees", ("Top %d employees by spend (%s)"):format(#top, currency), "Employee",
      top, currency, describe(top, function(r) return r.key end, function(r) return r.value end, currency)))
    w('<p class="legend"><span class="swatch bar"></span>employee<span class="swatch leaver"></span>leaver</p>')
  end
  w("</figure>")

  -- The workspace model against the actual spend.
  local model = type(cost.model) == "table" and cost.model or nil
  w('<figure id="figure-model"><figcaption>Workspace model vs actual</figcaption>')
  if not model then
    w(empty("no-model", "No workspace model in this report"))
  else
    local n = model.employees_with_workspace
    local label = ("Model: %s \195\151 (1 + %s)"):format(amount_str(model.price), amount_str(n))
    local rows = {
      { key = "model", label = label, value = model.model_total, series = "model" },
      { key = "actual", label = "Actual workspaces", value = model.actual_workspace_total, series = "actual" },
    }
    w(bar_chart("chart-model", ("Workspace model total vs actual workspace total (%s)"):format(currency),
      "", rows, currency, ("%s = %s %s; actual workspace total %s %s"):format(
        text(label), text(amount_str(model.model_total)), currency,
        text(amount_str(model.actual_workspace_total)), currency)))
    local pc, nn = cents(model.price), math.tointeger(n)
    if pc and nn and cents(model.model_total) and pc * (1 + nn) ~= cents(model.model_total) then
      w(('<p class="warning" id="model-inconsistent">The model total %s is not %s \195\151 (1 + %s).</p>')
        :format(text(amount_str(model.model_total)), text(amount_str(model.price)), text(amount_str(n))))
    end
    local per = {}
    for _, p in ipairs(list(model.per_employee)) do
      if type(p) == "table" then per[#per + 1] = p end
    end
    table.sort(per, function(a, b) return amount_str(a.key) < amount_str(b.key) end)
    if #per == 0 then
      w(empty("no-model-employees", "No per-employee workspace spend"))
    else
      local rows2 = {}
      for _, p in ipairs(per) do
        rows2[#rows2 + 1] = { key = p.key, value = p.actual, series = "actual" }
        rows2[#rows2 + 1] = { key = p.key, value = p.model, series = "model", show_label = false }
      end
      local desc = {}
      for i, p in ipairs(per) do
        desc[i] = ("%s: actual %s, model %s %s"):format(text(p.key), text(amount_str(p.actual)),
          text(amount_str(p.model)), currency)
      end
      w(bar_chart("chart-model-employees", ("Workspace spend per employee, actual vs model (%s)"):format(currency),
        "Employee", rows2, currency, table.concat(desc, "; ")))
    end
    w(('<p class="legend"><span class="swatch bar2"></span>model (%s per workspace)'
      .. '<span class="swatch bar"></span>actual</p>'):format(amt(model.price)))
  end
  w("</figure></div></section>")

  -- Groups.
  w('<section id="groups"><h2>Spend by group</h2><div class="tables">')
  for _, name in ipairs(group_names(groups)) do
    if groups[name] ~= nil or GROUP_TITLE[name] then
      w(group_table(name, list(groups[name]), currency, compare))
    end
  end
  w("</div></section>")

  -- Unattributed.
  local un = by_amount(cost.unattributed, "amount", "resource")
  w(('<section id="unattributed-section"><h2>Unattributed resources (%d)</h2>'):format(#un))
  if #un == 0 then
    w(empty("no-unattributed", "No unattributed spend"))
  else
    w(tabulate("unattributed", {
      { title = "Resource", field = "resource", mono = true }, { title = "Product", field = "product" },
      { title = "Region", field = "region" }, { title = ("Amount (%s)"):format(currency), field = "amount", n = true },
      { title = "Why", field = "why" } }, un, function(it)
        return (' data-key="%s"'):format(text(amount_str(it.resource)))
      end))
  end
  w("</section>")

  -- Leavers.
  local lv = by_amount(cost.leavers)
  w(('<section id="leavers-section"><h2>Leavers\' spend (%d)</h2>'):format(#lv))
  if #lv == 0 then
    w(empty("no-leavers", "No spend by leavers"))
  else
    w(tabulate("leavers", { { title = "Leaver", field = "key" },
      { title = ("Amount (%s)"):format(currency), field = "amount", n = true } }, lv, function(it)
        return (' data-key="%s"'):format(text(amount_str(it.key)))
      end))
  end
  w("</section>")

  -- Month-over-month changes.
  w('<section id="changes-section"><h2>Changes since the compared month</h2>')
  local ch = type(cost.changes) == "table" and cost.changes or nil
  if not compare and not ch then
    w(empty("no-changes", "No comparison month: no changes to show"))
  else
    ch = ch or {}
    local cg = {}
    for _, c in ipairs(list(ch.groups)) do if type(c) == "table" then cg[#cg + 1] = c end end
    w(("<h3>Groups (%d)</h3>"):format(#cg))
    if #cg == 0 then
      w(empty("no-changes-groups", "No group changed"))
    else
      w(tabulate("changes-groups", {
        { title = "Group", field = "group" }, { title = "Key", field = "key" },
        { title = ("%s (%s)"):format(compare and text(compare) or "From", currency), field = "from", n = true },
        { title = ("%s (%s)"):format(text(cost.month), currency), field = "to", n = true },
        { title = "Change", field = "delta", n = true } }, cg, function(it)
          return (' data-group="%s" data-key="%s"'):format(text(amount_str(it.group)), text(amount_str(it.key)))
        end))
    end
    for _, s in ipairs { { "new", "New resources", "No new resources" },
                         { "vanished", "Vanished resources", "No resource vanished" } } do
      local items = by_amount(ch[s[1]], "amount", "resource")
      w(("<h3>%s (%d)</h3>"):format(s[2], #items))
      if #items == 0 then
        w(empty("no-changes-" .. s[1], s[3]))
      else
        w(tabulate("changes-" .. s[1], { { title = "Resource", field = "resource", mono = true },
          { title = ("Amount (%s)"):format(currency), field = "amount", n = true } }, items, function(it)
            return (' data-key="%s"'):format(text(amount_str(it.resource)))
          end))
      end
    end
  end
  w("</section>")

  -- Cost-allocation tags.
  w('<section id="allocation-section"><h2>Cost-allocation tags</h2>')
  local at = type(cost.allocation_tags) == "table" and cost.allocation_tags or {}
  local missing = {}
  for _, m in ipairs(list(at.missing)) do missing[#missing + 1] = m end
  if #missing == 0 then
    w(empty("no-allocation-warning", "Every tag the report groups by is a cost-allocation tag"))
  else
    local li = {}
    for i, m in ipairs(missing) do li[i] = ('<li class="mono" data-tag="%s">%s</li>'):format(text(m), text(m)) end
    w('<div id="allocation-tags" role="alert"><p class="warning">Warning: these tags are not cost-allocation '
      .. 'tags, so the bill does not carry them and spend by them is incomplete:</p>')
    w('<ul id="allocation-missing">' .. table.concat(li) .. "</ul>")
    if present(at.note) then w('<p id="allocation-note">' .. text(at.note) .. "</p>") end
    w("</div>")
  end
  w("</section></main>")

  w(("<footer>%s. Amounts are as the report computed them, in %s.</footer>")
    :format(present(cost.tool) and ("Made by " .. text(cost.tool)) or "Made by tcrun", currency))
  w("</body></html>")
  return table.concat(out, "\n") .. "\n"
end

return M
