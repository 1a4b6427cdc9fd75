"""Headless Chromium for tests: the DOM a page has once its scripts ran.

    from browser import chromium, dump_dom
    if chromium(): html = dump_dom("/path/page.html")

Chromium runs in a fresh profile, in its own process group (killed after),
with the flags that keep it off the network (this machine has none).
tests/e2e/review_html.t and cost_html.t carry fuller versions (screenshots,
the DevTools protocol).
"""
import os
import shutil
import signal
import subprocess
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio"]


def chromium():
    """The browser's path, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def dump_dom(path, timeout=120):
    """The serialized DOM of the local file path, or "" when Chromium failed."""
    profile = tempfile.mkdtemp(prefix="tcrun-chromium-")
    p = subprocess.Popen([chromium()] + FLAGS + ["--user-data-dir=" + profile, "--dump-dom",
                          "file://" + os.path.abspath(path)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        out = b""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    p.wait()
    shutil.rmtree(profile, ignore_errors=True)
    return out.decode("utf-8", "replace")
