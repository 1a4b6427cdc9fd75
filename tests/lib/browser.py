"""Headless Chromium for tests: the DOM a page has once its scripts ran, a
screenshot's pixels, and the DevTools protocol.

    from browser import chromium, dump_dom
    if chromium(): html = dump_dom("/path/page.html")

Chromium runs in a fresh profile, in its own process group (killed after),
with the flags that keep it off the network (this machine has none).  The
helpers hold no state of a test's: the browser's path, the folder for its
profiles and a diag callback are arguments (by default chromium(), the
system's temporary folder and no diagnostics).

  - find_chromium(): chromium(), installed with apt-get first when missing
    and running as root;
  - run_chromium(*args, browser=, tmpdir=): one headless run to its end,
    (rc, stdout, stderr);
  - dump_dom(path_or_url, browser=, tmpdir=, diag=): the DOM once loaded;
  - dom(text), Node, rows(doc, table_id): a minimal DOM over html.parser;
  - png_pixels(path): an 8-bit RGB/RGBA PNG's rows of pixels;
  - start_devtools(*args, browser=, tmpdir=), devtools_target(proc, profile),
    stop(proc), CDP(ws_url): a browser on the DevTools protocol (loopback),
    and a client over a minimal websocket;
  - Page(module, fixture, prefix): an HTML report's test scaffolding.
"""
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
import tempfile
import time
import zlib

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio"]
# A pixel a CSS pixel, and no scrollbar in a screenshot.
BASE_FLAGS = FLAGS + ["--force-device-scale-factor=1", "--hide-scrollbars"]


# --- finding the browser ---

def chromium():
    """The browser's path, or None."""
    for c in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if c and os.access(c, os.X_OK):
            return c
    return None


def find_chromium():
    """Debian's chromium, installed with apt-get when missing (as root)."""
    if chromium() or os.geteuid() != 0 or not shutil.which("apt-get"):
        return chromium()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmds in ([["apt-get", "install", "-y", "--no-install-recommends", "chromium"]],
                 [["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]]):
        try:
            for c in cmds:
                subprocess.run(c, env=env, capture_output=True, timeout=900)
        except (OSError, subprocess.SubprocessError):
            pass
        if chromium():
            break
    return chromium()


# --- running it ---

def kill(p):
    """Kills the process group of p, a Popen started with start_new_session."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_chromium(*args, browser=None, tmpdir=None, timeout=120):
    """Runs one headless Chromium to its end, in a fresh profile (made in
    tmpdir, removed after); its own process group is killed afterwards
    (helpers included).  (returncode, stdout, stderr) as text."""
    profile = tempfile.mkdtemp(prefix="tcrun-chromium-", dir=tmpdir)
    p = subprocess.Popen([browser or chromium()] + BASE_FLAGS + ["--user-data-dir=" + profile] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        out, err = p.communicate()
        err += b"\n(timed out)"
    kill(p)
    shutil.rmtree(profile, ignore_errors=True)
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def dump_dom(target, browser=None, tmpdir=None, diag=None, timeout=120):
    """The serialized DOM of target (a URL, or a local file's path) once
    loaded; when Chromium failed, what it wrote (often ""), and diag (if
    given) is told its exit code and stderr."""
    url = target if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target) else "file://" + os.path.abspath(target)
    rc, out, err = run_chromium("--dump-dom", url, browser=browser, tmpdir=tmpdir, timeout=timeout)
    if (rc != 0 or "<html" not in out) and diag:
        diag("chromium --dump-dom %s: rc %s\n%s" % (url, rc, err[-2000:]))
    return out


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
    """The document Node of an HTML text."""
    b = Builder()
    b.feed(text or "")
    b.close()
    return b.root


def rows(doc, table_id):
    """The stripped texts of the <td>s of each row of the table's <tbody>."""
    tab = doc.by_id(table_id)
    if tab is None:
        return []
    body = tab.all("tbody")
    return [[td.text().strip() for td in tr.all("td")] for tr in body[0].all("tr")] if body else []


# --- screenshots ---

def png_pixels(path):
    """(width, height, bytes a pixel, rows of RGB(A) bytes) of an 8-bit
    RGB/RGBA PNG."""
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


# --- the DevTools protocol ---

def start_devtools(*args, browser=None, tmpdir=None):
    """(process, profile folder) of a headless Chromium that serves the
    DevTools protocol on loopback, on a port of its choosing, with the extra
    args (then about:blank).  Its stderr is a pipe; stop(process) ends it."""
    profile = tempfile.mkdtemp(prefix="tcrun-chromium-cdp-", dir=tmpdir)
    proc = subprocess.Popen([browser or chromium()] + BASE_FLAGS + ["--user-data-dir=" + profile,
                                                                    "--remote-debugging-address=127.0.0.1",
                                                                    "--remote-debugging-port=0"]
                            + list(args) + ["about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    return proc, profile


def devtools_target(proc, profile, timeout=60):
    """The websocket URL of the first page of the browser start_devtools
    started, or None when it gave none within timeout seconds."""
    port_file, port = os.path.join(profile, "DevToolsActivePort"), None
    deadline = time.time() + timeout
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
    return ws


def stop(proc):
    """Ends a browser start_devtools started: asked, then its process group
    killed."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    kill(proc)


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


# --- an HTML report's test ---

RENDER = r'''
local json = require "tcrun.json"
local page = require(arg[3])
local f = assert(io.open(arg[1], "rb"))
local data = assert(json.decode(f:read("a")))
f:close()
local out = assert(io.open(arg[2], "wb"))
assert(out:write(page.render(data)))
assert(out:close())
'''


class Page:
    """What a test of an HTML report (a Lua module with render(data)) stands
    on: a scratch folder (removed at exit), render(json_path, name) through
    tcrun, the browser, and run_chromium / dump_dom bound to both.  With no
    browser, the test ends as a TAP skip, but only once the fixture renders:
    a missing page never passes silently."""

    def __init__(self, module, fixture, prefix):
        import atexit
        from tctest import Tap, script
        self.module, self.script = module, script(RENDER)
        self.tmp = tempfile.mkdtemp(prefix="tcrun-%s-" % prefix)
        atexit.register(shutil.rmtree, self.tmp, True)
        atexit.register(os.unlink, self.script)
        self.chromium = find_chromium()
        if not self.chromium:
            r, _, page = self.render(fixture, os.path.basename(fixture) + ".html")
            if r.rc != 0 or not page:
                print("not ok 1 - tcrun renders %s (chromium not installed)" % fixture)
                for line in (r.err or "").splitlines():
                    print("#   " + line)
                print("1..1")
                raise SystemExit(1)
            print("1..0 # SKIP chromium not installed")
            raise SystemExit(0)
        self.t = Tap()
        self.t.diag("using %s" % self.chromium)

    def render(self, data_path, name):
        """(tcrun's result, the page's path, its text or None)."""
        from tctest import tcrun
        out = os.path.join(self.tmp, name)
        r = tcrun(self.script, data_path, out, self.module)
        text = None
        if r.rc == 0 and os.path.exists(out):
            with open(out, encoding="utf-8") as f:
                text = f.read()
        return r, out, text

    def run_chromium(self, *args):
        return run_chromium(*args, browser=self.chromium, tmpdir=self.tmp)

    def dump_dom(self, url):
        return dump_dom(url, browser=self.chromium, tmpdir=self.tmp, diag=self.t.diag)
