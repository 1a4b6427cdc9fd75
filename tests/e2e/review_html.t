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
import atexit
import base64
import hashlib
import html.parser
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import SRC, Tap, script, tcrun  # noqa: E402

FIXTURE = os.path.join(SRC, "tests", "fixtures", "review.json")
HOSTILE = "<img src=x onerror=alert(1)>"
RANK = {"high": 1, "medium": 2, "low": 3}
WIDTH, HEIGHT = 1024, 768

RENDER = script(r'''
local json = require "tcrun.json"
local review_html = require "tcrun.review_html"
local f = assert(io.open(arg[1], "rb"))
local review = assert(json.decode(f:read("a")))
f:close()
local out = assert(io.open(arg[2], "wb"))
assert(out:write(review_html.render(review)))
assert(out:close())
''')

tmp = tempfile.mkdtemp(prefix="tcrun-review-html-")
atexit.register(shutil.rmtree, tmp, True)
atexit.register(os.unlink, RENDER)


def render(review_path, name):
    out = os.path.join(tmp, name)
    r = tcrun(RENDER, review_path, out)
    text = None
    if r.rc == 0 and os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            text = f.read()
    return r, out, text


def find_chromium():
    """Debian's chromium, installed with apt-get when missing (as root)."""
    def which():
        for c in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
            if c and os.access(c, os.X_OK):
                return c
        return None
    if which() or os.geteuid() != 0 or not shutil.which("apt-get"):
        return which()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmds in ([["apt-get", "install", "-y", "--no-install-recommends", "chromium"]],
                 [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]]):
        try:
            for c in cmds:
                subprocess.run(c, env=env, capture_output=True, timeout=900)
        except (OSError, subprocess.SubprocessError):
            pass
        if which():
            break
    return which()


with open(FIXTURE, encoding="utf-8") as f:
    review = json.load(f)

chromium = find_chromium()
if not chromium:
    # Still no silent pass without the feature: the page must render.
    r, _, page = render(FIXTURE, "review.html")
    if r.rc != 0 or not page:
        print("not ok 1 - tcrun renders tests/fixtures/review.json (chromium not installed)")
        for line in (r.err or "").splitlines():
            print("#   " + line)
        print("1..1")
        sys.exit(1)
    print("1..0 # SKIP chromium not installed")
    sys.exit(0)

t = Tap()
t.diag("using %s" % chromium)


# --- a minimal DOM from --dump-dom, with the standard library's parser ---

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def by_id(self, i):
        return next((n for n in self.walk() if n.attrs.get("id") == i), None)

    def all(self, tag):
        return [n for n in self.walk() if n.tag == tag]


class Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def dom(text):
    b = Builder()
    b.feed(text or "")
    b.close()
    return b.root


def rows(doc, table_id):
    tab = doc.by_id(table_id)
    if tab is None:
        return []
    body = tab.all("tbody")
    return [[td.text().strip() for td in tr.all("td")] for tr in body[0].all("tr")] if body else []


# --- Chromium ---

BASE_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-extensions", "--disable-default-apps", "--mute-audio",
              "--force-device-scale-factor=1", "--hide-scrollbars"]


def kill(p):
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_chromium(*args, timeout=120):
    """Runs one headless Chromium to its end, in a fresh profile; its own
    process group is killed afterwards (helpers included)."""
    profile = tempfile.mkdtemp(prefix="tcrun-chromium-", dir=tmp)
    p = subprocess.Popen([chromium] + BASE_FLAGS + ["--user-data-dir=" + profile] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        out, err = p.communicate()
        err += b"\n(timed out)"
    kill(p)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def dump_dom(url):
    rc, out, err = run_chromium("--dump-dom", url)
    if rc != 0 or "<html" not in out:
        t.diag("chromium --dump-dom %s: rc %s\n%s" % (url, rc, err[-2000:]))
    return out


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB/RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat.append(body)
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unexpected PNG format %r" % (hdr,))
    bpp = 3 if ctype == 2 else 4
    raw, stride, out, prev = zlib.decompress(b"".join(idat)), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ft == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif ft == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return w, h, bpp, out


class CDP:
    """A DevTools protocol client over a minimal websocket (RFC 6455: text
    frames, masked from the client; ping answered; no extensions)."""

    def __init__(self, ws_url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", ws_url)
        host, port, path = m.group(1), int(m.group(2)), m.group(3)
        self.sock = socket.create_connection((host, port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                             .encode()).digest()).decode()
        if b" 101 " not in head.split(b"\r\n")[0] or want.encode() not in head:
            raise ConnectionError("websocket handshake refused: %r" % head[:200])
        self.next_id, self.events = 0, []

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _message(self):
        parts = []
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            op = b0 & 0x0F
            if op == 9:
                self._send_frame(10, payload)
                continue
            if op == 8:
                raise ConnectionError("websocket closed by the browser")
            if op in (0, 1, 2):
                parts.append(payload)
                if b0 & 0x80:
                    return json.loads(b"".join(parts).decode("utf-8"))

    def call(self, method, params=None, timeout=30):
        self.next_id += 1
        mid = self.next_id
        self._send_frame(1, json.dumps({"id": mid, "method": method, "params": params or {}}).encode())
        deadline = time.time() + timeout
        while time.time() < deadline:
            msg = self._message()
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(method)

    def wait_event(self, name, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for e in self.events:
                if e["method"] == name:
                    return e
            msg = self._message()
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(name)

    def eval(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


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

profile = tempfile.mkdtemp(prefix="tcrun-chromium-cdp-", dir=tmp)
proc = subprocess.Popen([chromium] + BASE_FLAGS + ["--user-data-dir=" + profile,
                                                   "--remote-debugging-address=127.0.0.1",
                                                   "--remote-debugging-port=0",
                                                   "--window-size=1280,900", "about:blank"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
cdp = None
try:
    port_file, port = os.path.join(profile, "DevToolsActivePort"), None
    deadline = time.time() + 60
    while time.time() < deadline and port is None and proc.poll() is None:
        try:
            with open(port_file) as f:
                port = int(f.readline())
        except (OSError, ValueError):
            time.sleep(0.1)
    ws = None
    while port and time.time() < deadline and ws is None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/json/list")
        targets = json.loads(c.getresponse().read())
        c.close()
        ws = next((x["webSocketDebuggerUrl"] for x in targets if x.get("type") == "page"), None)
        if ws is None:
            time.sleep(0.2)
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
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    kill(proc)

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
