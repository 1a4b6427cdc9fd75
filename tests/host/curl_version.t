#!/usr/bin/env python3
"""tcrun needs libcurl 7.85.0 (CURLOPT_PROTOCOLS_STR) and says so: a stub
libcurl.so.4 that reports 7.66.0, found first through LD_LIBRARY_PATH, is
refused at the first call with that reason, and nothing is sent."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import Capture, Tap, script, tcrun  # noqa: E402

STUB = r'''
/* The head of curl_version_info_data, as curl.h lays it out. */
struct info { int age; const char *version; unsigned version_num; } info;
struct info *curl_version_info(int v);
struct info *curl_version_info(int v)
{ info.age = v; info.version = "7.66.0"; info.version_num = 0x074200;
  return &info; }
#define STUB(name) void name(void); void name(void) {}
STUB(curl_global_init) STUB(curl_multi_init) STUB(curl_multi_setopt)
STUB(curl_multi_add_handle) STUB(curl_multi_remove_handle)
STUB(curl_multi_perform) STUB(curl_multi_poll) STUB(curl_multi_info_read)
STUB(curl_multi_cleanup) STUB(curl_easy_init) STUB(curl_easy_setopt)
STUB(curl_easy_getinfo) STUB(curl_easy_strerror) STUB(curl_easy_cleanup)
STUB(curl_slist_append) STUB(curl_slist_free_all)
'''

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-curl-")
src = os.path.join(tmp, "stub.c")
with open(src, "w") as f:
    f.write(STUB)
cc = subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-o",
                     os.path.join(tmp, "libcurl.so.4"), src],
                    capture_output=True, text=True)
t.ok(cc.returncode == 0, "a stub libcurl 7.66.0 builds", cc.stderr)
call = script('local ok, e = pcall(tc.call, "cam", "GetUser", { Name = "a" })\n'
              'print(e.code, e.message)')
with Capture() as cap:
    r = tcrun(call, endpoint=cap.url, env={"LD_LIBRARY_PATH": tmp})
    t.like(r.out, "ClientError.NetworkError\tlibcurl 7.66.0 is too old (7.85.0 or later needed)",
           "an old libcurl is refused with the version tcrun needs")
    t.eq(len(cap.requests()), 0, "and nothing is sent")
    r = tcrun(call, endpoint=cap.url)
    t.eq(r.out, "nil\tnil\n", "the system's libcurl is accepted: the call succeeds")
shutil.rmtree(tmp, ignore_errors=True)
t.done()
