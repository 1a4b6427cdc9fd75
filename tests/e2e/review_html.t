#!/usr/bin/env python3
"""The nightly review's HTML page (lua/tcrun/review_html.lua), as a browser
shows it.  tests/fixtures/review.json (every kind, three severities, two
accounts, hostile names, two accepted findings) is rendered by ./tcrun, then
opened in headless Chromium:
  - the file itself: one self-contained page, nothing it could fetch (no
    URL, no src/href, no @import or url()), a strict CSP of hashes only,
    every hostile string escaped;
  - --dump-dom (after the page's script ran): the header, the summary
    counts and the rows of both tables are the fixture's, in the default
    order (severity high first, kind, principal); the hostile names are
    text and no injected element or event handler exists; #sort=principal
    and #sort=-severity in the URL sort the rows;
  - --screenshot: a PNG of the window's size that is not blank and shows
    the high-severity colour (the stylesheet was allowed by the CSP);
  - the DevTools protocol (a stdlib websocket client on loopback): real
    mouse clicks on the column headers sort ascending then descending, the
    page makes no request but its own file, and logs no CSP violation;
  - a review without findings says "No findings".
Chromium is Debian's; when it is missing the test tries to install it (as
root, with apt-get) and skips only when that fails."""
import base64
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
from browser import CDP, devtools_target, dom, png_pixels, rows, start_devtools, stop  # noqa: E402
from tctest import SRC  # noqa: E402

FIXTURE = os.path.join(SRC, "tests", "fixtures", "review.json")
HOSTILE = "<img src=x onerror=alert(1)>"
RANK = {"high": 1, "medium": 2, "low": 3}
WIDTH, HEIGHT = 1024, 768

with open(FIXTURE, encoding="utf-8") as f:
    review = json.load(f)

page_test = browser.Page("tcrun.review_html", FIXTURE, "review-html")
t, tmp, chromium, render = page_test.t, page_test.tmp, page_test.chromium, page_test.render
run_chromium, dump_dom = page_test.run_chromium, page_test.dump_dom


# --- the file itself ---

r, page_path, page = render(FIXTURE, "review.html")
t.ok(r.rc == 0 and page is not None, "tcrun renders tests/fixtures/review.json with review_html.render",
     r.err[-2000:])
page = page or ""
page_url = "file://" + page_path

t.ok(page.startswith("<!DOCTYPE html>"), "the page is an HTML5 document")
csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
t.ok(csp is not None, "the page has a Content-Security-Policy meta tag")
csp = csp.group(1) if csp else ""
directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
t.eq(directives.get("default-src"), ["'none'"], "CSP: default-src 'none'")
t.ok(all(re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", s)
         for d in ("script-src", "style-src") for s in directives.get(d, ["-"])),
     "CSP: scripts and styles only the page's own, by their SHA-256", csp)
own_script = re.findall(r"<script>(.*?)</script>", page, re.S)
own_style = re.findall(r"<style>(.*?)</style>", page, re.S)
t.eq(["'sha256-%s'" % base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
      for s in own_script + own_style],
     directives.get("script-src", []) + directives.get("style-src", []),
     "CSP: the hashes are those of the page's one <script> and one <style>")
static = dom(page)
FETCHING_ATTRS = {"src", "href", "action", "formaction", "srcset", "poster", "data", "background",
                  "ping", "manifest", "xlink:href"}
t.eq(sorted({"<%s %s>" % (n.tag, a) for n in static.walk() for a in n.attrs if a.lower() in FETCHING_ATTRS}), [],
     "no element of the file has a src, href or other fetching attribute")
t.eq(sorted({n.tag for n in static.walk()} & {"link", "img", "iframe", "object", "embed", "base", "form",
                                              "video", "audio", "source", "svg", "image", "frame"}), [],
     "no element of the file could load anything (link, img, iframe, base, ...)")
t.ok(not re.search(r"@import|url\(|@font-face|https?:|//", "".join(own_style + own_script), re.I),
     "the inline style and script name no URL, import, url() or font")
t.ok(not re.search(r"https?://|//[a-z0-9]", page, re.I),
     "no http://, https:// or //host anywhere in the file")
t.ok("&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page,
     "the hostile principal is escaped in the file")
t.ok(page.count("<script") == 1 and "</td><script>" not in page,
     "the one <script> is the page's own: a </td><script> in the evidence stays text")

# --- what Chromium shows: the DOM after the page's script ran ---

doc = dom(dump_dom(page_url))
findings, accepted, summary = review["findings"], review["accepted"], review["summary"]
t.eq(doc.by_id("generated").text() if doc.by_id("generated") else None, review["generated"],
     "header: generated time")
t.eq([li.text() for li in doc.by_id("accounts").all("li")] if doc.by_id("accounts") else None,
     ["%s (%s)" % (a["name"], a["uin"]) for a in review["accounts"]], "header: the accounts reviewed")
t.eq(doc.by_id("roster").text() if doc.by_id("roster") else None, review["roster"], "header: roster")
t.like(doc.by_id("window").text() if doc.by_id("window") else "", "%d days" % review["window_days"],
       "header: the window")


def card(i):
    n = doc.by_id(i)
    spans = [s for s in n.all("span") if s.attrs.get("class") == "n"] if n else []
    return int(spans[0].text()) if spans else None


t.eq([card("sum-total"), card("sum-accepted")] + [card("sum-sev-" + s) for s in ("high", "medium", "low")],
     [summary["total"], summary["accepted"]] + [summary["by_severity"][s] for s in ("high", "medium", "low")],
     "summary boxes: total, accepted, high, medium, low are the fixture's")
t.eq({r[0]: int(r[1]) for r in rows(doc, "by-kind")}, summary["by_kind"],
     "summary by kind is the fixture's (%d kinds)" % len(summary["by_kind"]))
t.eq({r[0]: int(r[1]) for r in rows(doc, "by-account")}, summary["by_account"],
     "summary by account is the fixture's")

frows = rows(doc, "findings")
t.eq(len(frows), len(findings), "the findings table has one row per finding (%d)" % len(findings))
t.eq(len(rows(doc, "accepted")), len(accepted), "the accepted table has one row per accepted finding")
heads = [th.attrs.get("data-col") for th in doc.by_id("findings").all("th")] if doc.by_id("findings") else []
t.eq(heads, ["severity", "kind", "account", "principal", "detail", "evidence", "id"], "findings columns")
COL = {c: i for i, c in enumerate(heads)}


def default_order(lst):
    return sorted(lst, key=lambda f: (RANK.get(f["severity"], 4), f["severity"], f["kind"],
                                      f["principal"], f["account"], f["id"]))


DEFAULT = [f["id"] for f in default_order(findings)]
t.eq([r[COL.get("id", -1)] for r in frows], DEFAULT,
     "default order: severity high to low, then kind, then principal")
t.ok(all(r[COL["severity"]] in RANK for r in frows) and
     [r[COL["severity"]] for r in frows] == sorted((r[COL["severity"]] for r in frows), key=RANK.get),
     "the severity column shows high, then medium, then low")
by_id = {f["id"]: f for f in findings}
sample = next((r for r in frows if r[COL["id"]] == "old-key/100000000001/jack.ma"), None)
t.ok(sample is not None and "age_days: 401" in sample[COL["evidence"]] and
     "key: AKID****77XA" in sample[COL["evidence"]],
     "evidence shows as key: value lines", sample)
lists = next((r for r in frows if r[COL["id"]].startswith("prod-write/")), None)
t.like(lists[COL["evidence"]] if lists else "", "actions: cvm:RunInstances, cam:AttachUserPolicy",
       "a list in the evidence shows as its values")
acc_rows = rows(doc, "accepted")
acc_text = "\n".join(" | ".join(r) for r in acc_rows)
t.ok(all(a["acceptance"][k] in acc_text for a in accepted for k in ("owner", "ticket", "expires")),
     "the accepted section shows each owner, ticket and expiry", acc_text)

principals = [r[COL["principal"]] for r in frows]
t.ok(HOSTILE in principals, "the hostile principal name shows as text", principals)
t.ok(not doc.all("img") and not doc.all("svg") and not doc.all("iframe"),
     "no injected element (img, svg, iframe) in the DOM")
t.eq(len(doc.all("script")), 1, "one <script> element in the DOM: the page's own")
handlers = [(n.tag, a) for n in doc.walk() for a in n.attrs if a.lower().startswith("on")]
t.eq(handlers, [], "no event-handler attribute anywhere in the DOM")


def py_sort(col, desc=False):
    base = default_order(findings)
    if col == "severity":
        key = lambda f: (str(RANK.get(f["severity"], 4)),) * 2  # noqa: E731
    else:
        key = lambda f: (f[col].lower(), f[col])  # noqa: E731
    return [f["id"] for f in sorted(base, key=key, reverse=desc)]


for frag, col, desc in (("#sort=principal", "principal", False), ("#sort=-severity", "severity", True),
                        ("#sort=-kind", "kind", True)):
    d = dom(dump_dom(page_url + frag))
    got = [r[COL["id"]] for r in rows(d, "findings")]
    t.eq(got, py_sort(col, desc), "%s in the URL sorts the findings by %s, %s"
         % (frag, col, "descending" if desc else "ascending"))
t.ok(py_sort("principal") != DEFAULT, "(and that order differs from the default one)")

# --- a screenshot ---

shot = os.path.join(tmp, "review.png")
rc, _, err = run_chromium("--window-size=%d,%d" % (WIDTH, HEIGHT), "--screenshot=" + shot, page_url)
t.ok(rc == 0 and os.path.exists(shot), "chromium takes a screenshot", err[-2000:])
try:
    w, h, bpp, px = png_pixels(shot)
except (OSError, ValueError, zlib.error, TypeError, struct.error) as e:
    w = h = bpp = 0
    px = []
    t.diag("screenshot: %s" % e)
t.eq((w, h), (WIDTH, HEIGHT), "the screenshot is %dx%d" % (WIDTH, HEIGHT))
colours, dark, high = {}, 0, 0
for line in px:
    for i in range(0, len(line), bpp * 2):
        c = line[i:i + 3]
        colours[c] = colours.get(c, 0) + 1
        if sum(c) < 200:
            dark += 1
        if abs(c[0] - 0xb4) < 6 and abs(c[1] - 0x23) < 6 and abs(c[2] - 0x18) < 6:
            high += 1
sampled = sum(colours.values()) or 1
top = max(colours.values()) if colours else sampled
t.ok(len(colours) > 20 and top < 0.97 * sampled and dark > 200,
     "the screenshot is not blank (%d colours, %d dark pixels, background %.0f%%)"
     % (len(colours), dark, 100.0 * top / sampled))
t.ok(high > 50, "the screenshot shows the high-severity colour: the stylesheet applied (%d px)" % high)

# --- the DevTools protocol: real clicks, requests, CSP reports ---

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

    def order():
        return cdp.eval("Array.from(document.querySelectorAll('#findings tbody tr'))"
                        ".map(function (r) { return r.cells[%d].textContent.trim(); })" % COL["id"])

    def aria(col):
        return cdp.eval("document.querySelector('#findings th[data-col=%s]').getAttribute('aria-sort')" % col)

    def click(col):
        x, y = cdp.eval("(function () { var b = document.querySelector('#findings th[data-col=%s] button');"
                        " b.scrollIntoView({block: 'center'}); var r = b.getBoundingClientRect();"
                        " return [r.left + r.width / 2, r.top + r.height / 2]; })()" % col)
        for typ in ("mouseMoved", "mousePressed", "mouseReleased"):
            cdp.call("Input.dispatchMouseEvent", {"type": typ, "x": x, "y": y, "button": "left",
                                                  "buttons": 1 if typ == "mousePressed" else 0,
                                                  "clickCount": 1})

    t.eq(order(), DEFAULT, "CDP: the page loads in the default order")
    click("principal")
    t.eq((order(), aria("principal")), (py_sort("principal"), "ascending"),
         "CDP: a click on Principal sorts by principal, ascending")
    click("principal")
    t.eq((order(), aria("principal")), (py_sort("principal", True), "descending"),
         "CDP: a second click on Principal sorts descending")
    click("account")
    t.eq((order(), aria("account"), aria("principal")), (py_sort("account"), "ascending", None),
         "CDP: a click on Account sorts by account; only that header is marked")
    click("severity")
    click("severity")
    t.eq(order(), py_sort("severity", True), "CDP: two clicks on Severity: low first")
    t.eq(cdp.eval("document.querySelectorAll('img, svg, iframe, object, embed').length"), 0,
         "CDP: no injected element in the live page")

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
except (OSError, RuntimeError, TimeoutError, ConnectionError, ValueError, KeyError, TypeError) as e:
    t.ok(False, "the DevTools session", "%s: %s\n%s" % (type(e).__name__, e,
                                                          proc.stderr.read1(4000).decode("utf-8", "replace")
                                                          if proc.poll() is not None else ""))
finally:
    if cdp:
        cdp.close()
    stop(proc)

# --- a review without findings ---

empty = dict(review, findings=[], accepted=[],
             summary={"total": 0, "accepted": 0, "by_severity": {}, "by_kind": {}, "by_account": {}})
empty_json = os.path.join(tmp, "empty.json")
with open(empty_json, "w", encoding="utf-8") as f:
    json.dump(empty, f)
r, empty_path, empty_page = render(empty_json, "empty.html")
t.ok(r.rc == 0 and empty_page, "a review without findings renders", r.err[-2000:])
d = dom(dump_dom("file://" + empty_path))
nf = d.by_id("no-findings")
t.eq(nf.text().strip() if nf else None, "No findings", "and the page says plainly: No findings")
t.ok(d.by_id("findings") is None, "no findings table is shown")

# --- hostile text in every field ---

EVIL = "\"'><svg onload=alert(7)></script><script>alert(8)</script><!--"
evil = {"generated": EVIL, "tool": EVIL, "roster": EVIL, "window_days": EVIL,
        "accounts": [{"name": EVIL, "uin": EVIL}],
        "summary": {"total": EVIL, "accepted": 1, "by_severity": {EVIL: 1},
                    "by_kind": {EVIL: 1}, "by_account": {EVIL: 1}},
        "findings": [{"id": EVIL, "kind": EVIL, "severity": EVIL, "account": EVIL,
                      "principal": EVIL, "detail": EVIL, "evidence": {EVIL: [EVIL, EVIL], "k": EVIL}}],
        "accepted": [{"id": EVIL, "kind": EVIL, "severity": "high", "account": EVIL, "principal": EVIL,
                      "detail": EVIL, "evidence": {},
                      "acceptance": {"owner": EVIL, "ticket": EVIL, "expires": EVIL}}]}
evil_json = os.path.join(tmp, "evil.json")
with open(evil_json, "w", encoding="utf-8") as f:
    json.dump(evil, f)
r, evil_path, evil_page = render(evil_json, "evil.html")
t.ok(r.rc == 0 and evil_page, "a review with markup in every field renders", r.err[-2000:])
evil_page = evil_page or ""
t.ok(evil_page.count("<script") == 1 and "<svg" not in evil_page and "<!--" not in evil_page,
     "in the file, every field's markup is escaped")
d = dom(dump_dom("file://" + evil_path))
t.ok(not d.all("svg") and len(d.all("script")) == 1 and
     not [a for n in d.walk() for a in n.attrs if a.lower().startswith("on")],
     "in the browser, no field's markup became an element or a handler")
t.ok(EVIL in rows(d, "findings")[0] if rows(d, "findings") else False,
     "and the markup shows as text")

t.done()
