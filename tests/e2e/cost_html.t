#!/usr/bin/env python3
"""The monthly cost report's HTML page (lua/tcrun/cost_html.lua), as a
browser shows it.  tests/fixtures/cost.json (six employees, one a leaver,
two business units, four environments and "(none)", two unattributed
resources, a compared month, a missing cost-allocation tag, and hostile tag
values: a spreadsheet formula with a URL and a <script> in an employee's
key) is rendered by ./tcrun, then opened in headless Chromium:
  - the file itself: one self-contained page, nothing it could fetch (no
    src/href, no URL but the hostile value's own text, no @import or
    url()), no script, a CSP that allows only the page's own <style> by
    its SHA-256, the hostile values escaped;
  - --dump-dom: the header; the report total and the bill total and every
    group amount exactly as the fixture spells them (as text and in
    data-amount), each group's rows biggest first; the SVG charts (by
    business unit, by environment: one bar per item; top 10 employees:
    min(10, n) bars in amount order, the leaver marked; model vs actual),
    each with a <title> and aria-labelledby, their value labels equal to
    the fixture's amounts and the bars' lengths in amount order; the
    unattributed, leavers, changes and allocation-tag sections; every
    element with data-amount shows exactly that text; the hostile values
    are text, and no element, handler or script was injected;
  - --screenshot: a PNG of the window's size that is not blank and shows
    the bars' colour (the stylesheet and the SVG were drawn);
  - the DevTools protocol: the page requests nothing but its own file and
    logs no CSP violation; the live layout has the bars' widths in
    proportion to the amounts;
  - variants: 13 employees (the top 10 only), a bill total that differs
    (a visible warning with the exact difference), a report with nothing
    unattributed, no leavers, no compared month and no missing tag (each
    section says so), and markup in every field.
Chromium is Debian's; when it is missing the test tries to install it (as
root, with apt-get) and skips only when that fails."""
import base64
import copy
import decimal
import hashlib
import json
import os
import re
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import browser  # noqa: E402
from browser import CDP, devtools_target, dom, png_pixels, start_devtools, stop  # noqa: E402
from tctest import SRC  # noqa: E402

FIXTURE = os.path.join(SRC, "tests", "fixtures", "cost.json")
WIDTH, HEIGHT = 1024, 768
BAR_RGB = (0x2f, 0x6f, 0xde)
D = decimal.Decimal

with open(FIXTURE, encoding="utf-8") as f:
    cost = json.load(f)

page_test = browser.Page("tcrun.cost_html", FIXTURE, "cost-html")
t, tmp, chromium, render = page_test.t, page_test.tmp, page_test.chromium, page_test.render
run_chromium, dump_dom = page_test.run_chromium, page_test.dump_dom


def render_obj(cost, name):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cost, f)
    return render(path, name + ".html")


def cls(n):
    return n.attrs.get("class", "").split() if n is not None else []


def items_of(doc, svg_id):
    svg = doc.by_id(svg_id)
    return [g for g in svg.all("g") if "item" in cls(g)] if svg is not None else []


def child(g, tag, klass=None):
    return next((n for n in g.all(tag) if klass is None or klass in cls(n)), None)


def label_of(g):
    v = child(g, "text", "value")
    return (v.text(), v.attrs.get("data-amount")) if v is not None else (None, None)


def ordered(lst, field="amount", key="key"):
    return sorted(lst, key=lambda it: (-D(it[field]), it[key]))


def table_rows(doc, table_id):
    """[(data-key, [data-amount texts], [data-amount attributes], cells)]."""
    tab = doc.by_id(table_id)
    if tab is None:
        return []
    body = tab.all("tbody")
    out = []
    for tr in body[0].all("tr") if body else []:
        tds = tr.all("td")
        amts = [td for td in tds if "data-amount" in td.attrs]
        out.append((tr.attrs.get("data-key"), [td.text() for td in amts],
                    [td.attrs["data-amount"] for td in amts], [td.text().strip() for td in tds]))
    return out


def text_of(doc, i):
    n = doc.by_id(i)
    return n.text().strip() if n is not None else None


# --- the file itself ---

r, page_path, page = render(FIXTURE, "cost.html")
t.ok(r.rc == 0 and page is not None, "tcrun renders tests/fixtures/cost.json with cost_html.render",
     r.err[-2000:])
page = page or ""
page_url = "file://" + page_path

t.ok(page.startswith("<!DOCTYPE html>"), "the page is an HTML5 document")
csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
t.ok(csp is not None, "the page has a Content-Security-Policy meta tag")
csp = csp.group(1) if csp else ""
directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
t.eq((directives.get("default-src"), directives.get("script-src"), directives.get("img-src")),
     (["'none'"], ["'none'"], ["'none'"]), "CSP: default-src, script-src and img-src 'none'")
own_style = re.findall(r"<style>(.*?)</style>", page, re.S)
t.eq(["'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in own_style],
     directives.get("style-src"), "CSP: style-src is the SHA-256 of the page's one <style>")
static = dom(page)
FETCHING_ATTRS = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background",
                  "ping", "manifest", "xlink:href", "style"}
t.eq(sorted({"<%s %s>" % (n.tag, a) for n in static.walk() for a in n.attrs if a.lower() in FETCHING_ATTRS}), [],
     "no element of the file has a src, href, style or other fetching attribute")
t.eq(sorted({n.tag for n in static.walk()} & {"link", "img", "iframe", "object", "embed", "base", "form", "a",
                                              "video", "audio", "source", "image", "use", "foreignobject",
                                              "frame", "script"}), [],
     "no element of the file could load or run anything (script, link, img, a, svg image/use, ...)")
t.ok(not re.search(r"@import|url\(|@font-face|https?:|//", "".join(own_style), re.I),
     "the inline style names no URL, import, url() or font")
HYPER = cost["groups"]["cost_center"][2]["key"]
EMP = cost["groups"]["employee"][5]["key"]
hyper_esc = HYPER.replace("&", "&amp;").replace('"', "&quot;")
t.ok(hyper_esc in page and not re.search(r"https?://|//[a-z0-9]", page.replace(hyper_esc, ""), re.I),
     "no http://, https:// or //host in the file but the hostile tag value's own escaped text")
t.ok("mallory&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page,
     "the hostile employee key is escaped in the file: no <script> at all")

# --- what Chromium shows ---

doc = dom(dump_dom(page_url))
t.eq((text_of(doc, "month"), text_of(doc, "compare-month"), text_of(doc, "generated"), text_of(doc, "tool"),
      text_of(doc, "currency")),
     (cost["month"], cost["compare"], cost["generated"], cost["tool"], cost["currency"]),
     "header: month, compared month, generated time, tool, currency")
t.eq([li.text() for li in doc.by_id("accounts").all("li")] if doc.by_id("accounts") else None,
     ["%s (%s)" % (a["name"], a["uin"]) for a in cost["accounts"]], "header: the accounts")
tot, bill = doc.by_id("total"), doc.by_id("bill-total")
t.eq((tot.text() if tot else None, tot.attrs.get("data-amount") if tot else None,
      bill.text() if bill else None, bill.attrs.get("data-amount") if bill else None),
     (cost["total"], cost["total"], cost["bill_total"], cost["bill_total"]),
     "the report total and the bill total show exactly as in the fixture (%s, %s)"
     % (cost["total"], cost["bill_total"]))
rec = doc.by_id("reconcile")
t.ok(rec is not None and rec.attrs.get("data-status") == "ok" and doc.by_id("reconcile-ok") is not None
     and doc.by_id("reconcile-warning") is None, "equal totals: reconciled, no warning")

for g, lst in cost["groups"].items():
    got = table_rows(doc, "group-" + g)
    want = ordered(lst)
    t.eq([(k, a[:1], d[:1]) for k, a, d, _ in got], [(it["key"], [it["amount"]], [it["amount"]]) for it in want],
         "table group-%s: every key and amount exactly as in the fixture, biggest first (%d rows)" % (g, len(lst)))
emp_rows = table_rows(doc, "group-employee")
t.eq([a[1:] for _, a, _, _ in emp_rows], [[it["compare"]] if "compare" in it else []
                                           for it in ordered(cost["groups"]["employee"])],
     "the employee table shows the compared month's amounts")
t.eq(sorted(k for k, _, _, cells in emp_rows if "leaver" in cells),
     sorted(e["key"] for e in cost["groups"]["employee"] if e["leaver"]), "the employee table marks the leaver")

all_amounts = [n for n in doc.walk() if "data-amount" in n.attrs]
t.ok(len(all_amounts) > 50 and all(n.text() == n.attrs["data-amount"] for n in all_amounts),
     "every element with data-amount shows exactly that text (%d elements)" % len(all_amounts),
     [(n.tag, n.text(), n.attrs["data-amount"]) for n in all_amounts if n.text() != n.attrs["data-amount"]])
fixture_amounts = set()


def collect(v):
    if isinstance(v, dict):
        for k, x in v.items():
            if k in ("amount", "total", "bill_total", "compare", "from", "to", "delta", "price", "model_total",
                     "actual_workspace_total", "actual", "model") and isinstance(x, str):
                fixture_amounts.add(x)
            else:
                collect(x)
    elif isinstance(v, list):
        for x in v:
            collect(x)


collect({k: v for k, v in cost.items() if k != "compare"})
shown = {n.attrs["data-amount"] for n in all_amounts}
t.eq(sorted(shown - fixture_amounts), [], "every amount shown is one of the fixture's strings (none re-computed)")
t.eq(sorted(fixture_amounts - shown), [], "every amount in the fixture is shown")

# Charts.
for g in ("business_unit", "environment"):
    svg = doc.by_id("chart-" + g)
    want = ordered(cost["groups"][g])
    its = items_of(doc, "chart-" + g)
    t.ok(svg is not None and svg.attrs.get("role") == "img" and svg.attrs.get("aria-label")
         and svg.attrs.get("aria-labelledby", "").split() == ["chart-%s-title" % g, "chart-%s-desc" % g]
         and doc.by_id("chart-%s-title" % g) is not None and doc.by_id("chart-%s-desc" % g) is not None,
         "chart %s: an SVG with role img, aria-label, and a <title> and <desc> it is labelled by" % g)
    t.eq([(x.attrs.get("data-key"), len(x.all("rect"))) for x in its], [(it["key"], 1) for it in want],
         "chart %s: one bar per group item (%d), biggest first" % (g, len(want)))
    t.eq([label_of(x) for x in its], [(it["amount"], it["amount"]) for it in want],
         "chart %s: the value labels are the fixture's amounts" % g)
    hs = [float(child(x, "rect").attrs.get("height", "nan")) for x in its]
    ok = bool(hs) and hs[0] > 50 and all(abs(h / hs[0] - float(D(it["amount"]) / D(want[0]["amount"]))) < 0.01
                                         for h, it in zip(hs, want))
    t.ok(ok, "chart %s: the bars' heights are in proportion to the amounts" % g, hs)
    t.ok(any(x.tag == "text" and "axis" in cls(x) and "Amount (CNY)" in x.text() for x in svg.walk())
         if svg else False, "chart %s: an axis label names the currency" % g)

emps = ordered(cost["groups"]["employee"])
top = items_of(doc, "chart-top-employees")
n_top = min(10, len(emps))
t.eq([x.attrs.get("data-key") for x in top], [e["key"] for e in emps[:n_top]],
     "top employees: min(10, n) = %d bars, in amount order" % n_top)
t.eq([label_of(x) for x in top], [(e["amount"], e["amount"]) for e in emps[:n_top]],
     "top employees: the value labels are the fixture's amounts")
t.eq([x.attrs.get("data-key") for x in top if "leaver" in cls(x)], [e["key"] for e in emps[:n_top] if e["leaver"]],
     "top employees: the leaver's bar is marked (class leaver)")
t.ok(all((child(x, "text", "mark") is not None) == ("leaver" in cls(x)) for x in top)
     and all("leaver" in child(x, "text", "mark").text() for x in top if "leaver" in cls(x)),
     "top employees: and labelled 'leaver' in the chart")
svg = doc.by_id("chart-top-employees")
t.ok(svg is not None and doc.by_id("chart-top-employees-title") is not None
     and "Top %d" % n_top in doc.by_id("chart-top-employees-title").text(),
     "top employees: the chart has a title")

m = cost["model"]
mod = items_of(doc, "chart-model")
t.eq([(x.attrs.get("data-series"), label_of(x)) for x in mod],
     [("model", (m["model_total"], m["model_total"])),
      ("actual", (m["actual_workspace_total"], m["actual_workspace_total"]))],
     "model vs actual: the model total and the actual workspace total, as in the fixture")
lab = child(mod[0], "text", "label") if mod else None
t.like(lab.text() if lab else "", "%s \u00d7 (1 + %d)" % (m["price"], m["employees_with_workspace"]),
       "model vs actual: the model is labelled price \u00d7 (1 + N)")
per = items_of(doc, "chart-model-employees")
want = [(p["key"], s, p[s]) for p in sorted(m["per_employee"], key=lambda p: p["key"]) for s in ("actual", "model")]
t.eq([(x.attrs.get("data-key"), x.attrs.get("data-series"), label_of(x)[0]) for x in per], want,
     "model vs actual per employee: each employee's actual next to the model price, as in the fixture")
t.ok(doc.by_id("model-inconsistent") is None, "the fixture's model total is price \u00d7 (1 + N): no warning")

# Other sections.
t.eq([(k, a, c[0]) for k, a, _, c in table_rows(doc, "unattributed")],
     [(u["resource"], [u["amount"]], u["resource"]) for u in ordered(cost["unattributed"], key="resource")],
     "unattributed resources: each with its amount")
un = "\n".join(" | ".join(c) for _, _, _, c in table_rows(doc, "unattributed"))
t.ok(all(u[f] in un for u in cost["unattributed"] for f in ("product", "region", "why")),
     "unattributed resources: product, region and why", un)
t.eq([(k, a) for k, a, _, _ in table_rows(doc, "leavers")], [(x["key"], [x["amount"]]) for x in cost["leavers"]],
     "leavers' spend")
ch = cost["changes"]
t.eq([(c[0], c[1], a) for _, a, _, c in table_rows(doc, "changes-groups")],
     [(c["group"], c["key"], [c["from"], c["to"], c["delta"]]) for c in ch["groups"]],
     "month-over-month changes by group: from, to, delta as in the fixture")
t.eq([(k, a) for k, a, _, _ in table_rows(doc, "changes-new")],
     [(x["resource"], [x["amount"]]) for x in ordered(ch["new"], key="resource")], "new resources")
t.eq([(k, a) for k, a, _, _ in table_rows(doc, "changes-vanished")],
     [(x["resource"], [x["amount"]]) for x in ordered(ch["vanished"], key="resource")], "vanished resources")
at = doc.by_id("allocation-tags")
t.ok(at is not None and [li.text() for li in at.all("li")] == cost["allocation_tags"]["missing"]
     and cost["allocation_tags"]["note"] in at.text() and "Warning" in at.text(),
     "the allocation-tag warning names the missing tag and the note")

# Hostile values.
emp_keys = [k for k, _, _, _ in emp_rows]
emp_cells = [c[0] for _, _, _, c in emp_rows]
t.ok(EMP in emp_keys and EMP in emp_cells, "the <script> employee key shows as text in the table")
hg = next((x for x in top if x.attrs.get("data-key") == EMP), None)
t.ok(hg is not None and EMP in child(hg, "title").text(), "and in its chart item's <title>")
t.ok(HYPER in [c[0] for _, _, _, c in table_rows(doc, "group-cost_center")],
     "the =HYPERLINK(...) tag value shows as text")
t.eq(len(doc.all("script")), 0, "no <script> element in the DOM")
t.eq(sorted({n.tag for n in doc.walk()} & {"a", "img", "iframe", "object", "embed", "image", "use", "foreignobject"}),
     [], "no link, image or embedded element in the DOM")
t.eq([(n.tag, a) for n in doc.walk() for a in n.attrs if a.lower().startswith("on")], [],
     "no event-handler attribute anywhere in the DOM")

# --- a screenshot ---

shot = os.path.join(tmp, "cost.png")
rc, _, err = run_chromium("--window-size=%d,%d" % (WIDTH, HEIGHT), "--screenshot=" + shot, page_url)
t.ok(rc == 0 and os.path.exists(shot), "chromium takes a screenshot", err[-2000:])
try:
    w, h, bpp, px = png_pixels(shot)
except (OSError, ValueError, zlib.error, TypeError, struct.error) as e:
    w = h = bpp = 0
    px = []
    t.diag("screenshot: %s" % e)
t.eq((w, h), (WIDTH, HEIGHT), "the screenshot is %dx%d" % (WIDTH, HEIGHT))
colours, dark, bars = {}, 0, 0
for line in px:
    for i in range(0, len(line), bpp * 2):
        c = line[i:i + 3]
        colours[c] = colours.get(c, 0) + 1
        if sum(c) < 200:
            dark += 1
        if all(abs(c[k] - BAR_RGB[k]) < 6 for k in range(3)):
            bars += 1
sampled = sum(colours.values()) or 1
top_c = max(colours.values()) if colours else sampled
t.ok(len(colours) > 20 and top_c < 0.97 * sampled and dark > 200,
     "the screenshot is not blank (%d colours, %d dark pixels, background %.0f%%)"
     % (len(colours), dark, 100.0 * top_c / sampled))
t.ok(bars > 1000, "the screenshot shows the charts' bars in their colour (%d px sampled)" % bars)

# --- variants ---

big = copy.deepcopy(cost)
big["groups"]["employee"] = [{"key": "emp%02d" % i, "amount": a, "leaver": i == 4, "business_unit": "data"}
                             for i, a in enumerate(["5.10", "120.00", "19.90", "19.90", "88.05", "0.10", "300.00",
                                                    "45.60", "45.06", "7.00", "1000.01", "19.90", "64.35"])]
r, big_path, _ = render_obj(big, "big")
bdoc = dom(dump_dom("file://" + big_path))
bemps = ordered(big["groups"]["employee"])
btop = items_of(bdoc, "chart-top-employees")
t.eq([(x.attrs.get("data-key"), label_of(x)[0]) for x in btop], [(e["key"], e["amount"]) for e in bemps[:10]],
     "13 employees: the chart shows the top 10, biggest first (ties by name), with their amounts")
t.eq(len(table_rows(bdoc, "group-employee")), 13, "13 employees: the table shows all 13")
t.eq([x.attrs.get("data-key") for x in btop if "leaver" in cls(x)], ["emp04"], "13 employees: the leaver is marked")

mism = dict(copy.deepcopy(cost), bill_total="301.00")
r, mism_path, _ = render_obj(mism, "mismatch")
mdoc = dom(dump_dom("file://" + mism_path))
mrec, mwarn = mdoc.by_id("reconcile"), mdoc.by_id("reconcile-warning")
t.ok(mrec is not None and mrec.attrs.get("data-status") == "mismatch" and mwarn is not None
     and "differs" in mwarn.text() and mdoc.by_id("reconcile-ok") is None,
     "a bill total that differs: data-status mismatch and a warning", mwarn.text() if mwarn else None)
t.eq((text_of(mdoc, "total"), text_of(mdoc, "bill-total"), text_of(mdoc, "reconcile-diff")),
     ("300.37", "301.00", "-0.63"), "and the warning shows both totals and the exact difference")

bare = copy.deepcopy(cost)
for k in ("compare", "changes"):
    del bare[k]
bare["unattributed"], bare["leavers"], bare["allocation_tags"] = [], [], {"missing": [], "note": ""}
for lst in bare["groups"].values():
    for it in lst:
        it.pop("compare", None)
r, bare_path, _ = render_obj(bare, "bare")
bdoc2 = dom(dump_dom("file://" + bare_path))
t.eq([text_of(bdoc2, i) for i in ("no-unattributed", "no-leavers", "no-changes", "no-allocation-warning",
                                   "compare-month")],
     ["No unattributed spend", "No spend by leavers", "No comparison month: no changes to show",
      "Every tag the report groups by is a cost-allocation tag", "no comparison month"],
     "empty sections say so (unattributed, leavers, changes, allocation tags, compared month)")
t.ok(all(bdoc2.by_id(i) is None for i in ("unattributed", "leavers", "changes-groups", "allocation-tags")),
     "and show no table or warning")
t.eq(len([n for n in bdoc2.by_id("group-employee").all("th")]) if bdoc2.by_id("group-employee") else None, 4,
     "without compared amounts, the employee table has no previous-month column")

EVIL = "\"'><svg onload=alert(7)></script><script>alert(8)</script><!--"
evil = {"month": EVIL, "compare": EVIL, "generated": EVIL, "tool": EVIL, "currency": EVIL,
        "accounts": [{"name": EVIL, "uin": EVIL}], "total": EVIL, "bill_total": EVIL,
        "groups": {g: [{"key": EVIL, "amount": EVIL, "leaver": True, "business_unit": EVIL, "compare": EVIL},
                       {"key": EVIL + "2", "amount": "1.00"}] for g in ("employee", "business_unit",
                                                                         "environment", "cost_center", EVIL)},
        "unattributed": [{"resource": EVIL, "product": EVIL, "region": EVIL, "amount": EVIL, "why": EVIL}],
        "leavers": [{"key": EVIL, "amount": EVIL}],
        "model": {"price": EVIL, "employees_with_workspace": EVIL, "model_total": EVIL,
                  "actual_workspace_total": EVIL, "per_employee": [{"key": EVIL, "actual": EVIL, "model": EVIL}]},
        "changes": {"groups": [{"group": EVIL, "key": EVIL, "from": EVIL, "to": EVIL, "delta": EVIL}],
                    "new": [{"resource": EVIL, "amount": EVIL}], "vanished": [{"resource": EVIL, "amount": EVIL}]},
        "allocation_tags": {"missing": [EVIL], "note": EVIL}}
r, evil_path, evil_page = render_obj(evil, "evil")
t.ok(r.rc == 0 and evil_page, "a report with markup in every field renders", r.err[-2000:])
evil_page = evil_page or ""
t.ok("<script" not in evil_page and "<svg onload" not in evil_page and "<!--" not in evil_page,
     "in the file, every field's markup is escaped")
edoc = dom(dump_dom("file://" + evil_path))
t.ok(not edoc.all("script") and not [n for n in edoc.all("svg") if not n.attrs.get("id", "").startswith("chart-")]
     and not [a for n in edoc.walk() for a in n.attrs if a.lower().startswith("on")],
     "in the browser, no field's markup became an element or a handler")
t.ok(EVIL in [c[0] for _, _, _, c in table_rows(edoc, "group-employee")] and text_of(edoc, "month") == EVIL,
     "and the markup shows as text")

# --- the DevTools protocol: requests, CSP reports, the live layout ---

proc, profile = start_devtools("--window-size=1280,900", browser=chromium, tmpdir=tmp)
cdp = None
try:
    ws = devtools_target(proc, profile)
    t.ok(ws is not None, "chromium answers the DevTools protocol on loopback")
    cdp = CDP(ws)
    for dom_ in ("Page", "Runtime", "Network", "Log"):
        cdp.call(dom_ + ".enable")
    cdp.call("Page.navigate", {"url": page_url})
    cdp.wait_event("Page.loadEventFired", 60)
    widths = cdp.eval("Array.from(document.querySelectorAll('#chart-top-employees g.item rect.bar'))"
                      ".map(function (r) { return r.getBoundingClientRect().width; })")
    ratios = [float(D(e["amount"]) / D(emps[0]["amount"])) for e in emps[:n_top]]
    t.ok(widths and len(widths) == n_top and widths[0] > 100 and
         all(abs(wd / widths[0] - q) < 0.02 for wd, q in zip(widths, ratios)),
         "CDP: the top-employee bars are laid out with widths in proportion to the amounts", widths)
    t.eq(cdp.eval("document.querySelectorAll('script, img, iframe, object, embed, a').length"), 0,
         "CDP: no script, image, frame or link in the live page")
    time.sleep(0.5)
    try:
        cdp.call("Runtime.evaluate", {"expression": "1"})  # drain events
    except (RuntimeError, TimeoutError):
        pass
    urls = [e["params"]["request"]["url"] for e in cdp.events if e["method"] == "Network.requestWillBeSent"]
    t.ok(urls and all(u.split("#")[0] == page_url for u in urls),
         "CDP: the page requests nothing but its own file", urls)
    logs = [e["params"].get("entry", {}).get("text", "") for e in cdp.events if e["method"] == "Log.entryAdded"]
    logs += ["%s" % e["params"] for e in cdp.events
             if e["method"] in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled")]
    t.eq([x for x in logs if "Content Security Policy" in x or "Refused" in x or "exception" in x.lower()], [],
         "CDP: no CSP violation and no script error")
    cdp.events = []
    cdp.call("Page.navigate", {"url": "file://" + mism_path})
    cdp.wait_event("Page.loadEventFired", 60)
    st = cdp.eval("(function () { var w = document.getElementById('reconcile-warning');"
                  " var s = getComputedStyle(w), r = w.getBoundingClientRect();"
                  " return [s.color, s.fontWeight, r.width > 0 && r.height > 0 && r.top < innerHeight]; })()")
    t.eq(st, ["rgb(180, 35, 24)", "700", True],
         "CDP: the mismatch warning is visible above the fold, bold and in the warning colour")
except (OSError, RuntimeError, TimeoutError, ConnectionError, ValueError, KeyError, TypeError) as e:
    t.ok(False, "the DevTools session", "%s: %s\n%s" % (type(e).__name__, e,
                                                          proc.stderr.read1(4000).decode("utf-8", "replace")
                                                          if proc.poll() is not None else ""))
finally:
    if cdp:
        cdp.close()
    stop(proc)

t.done()
