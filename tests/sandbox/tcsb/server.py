"""The HTTP side: one POST / per API call, answered in the real envelope.

Order of checks for a call (the first failure answers):
  Authorization shape and X-TC-Timestamp (InvalidAuthorization, SignatureExpire)
  -> SecretId and X-TC-Token (SecretIdNotFound, TokenFailure)
  -> signature (SignatureFailure) -> service/version/action (InvalidAction,
  NoSuchVersion) -> region -> body against the SDK model (UnknownParameter,
  MissingParameter, InvalidParameter) -> rate limit (RequestLimitExceeded)
  -> injected fault (InternalError) -> authorization -> the handler.
Every call, failed or not, becomes a CloudAudit event of the account whose
key signed it (the management account's when the key is unknown); a
cross-account AssumeRole is also recorded in the role's account.
POST /tcsandbox/control is the sandbox-only control channel (control.py):
never an API call, only for the hub's root key, not recorded.
Before a call runs, timed Organization transitions (a new member's access
role) are settled; when that changes anything the state is saved.
Time: the signature's X-TC-Timestamp window and the rate-limit window use
the real clock; everything else (CloudAudit event times, token expiry,
asynchronous transitions, qcs:current_time in conditions, CreateTime, ...)
uses the sandbox's clock, the real one plus store.clock_offset() (moved
forward only by the control channel's AdvanceClock).
"""
import json
import socket
import struct
import sys
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import auth, cam_keys, cloudaudit, control, organization, registry, spec
from .ctx import Ctx, resolve
from .errors import ApiError

MAX_BODY = 10 * 1024 * 1024


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, addr, store, cfg, faults):
        self.store, self.cfg, self.faults = store, cfg, faults
        self.resets = set()
        super().__init__(addr, Handler)

    def shutdown_request(self, request):
        if id(request) in self.resets:
            self.resets.discard(id(request))
            try:
                request.close()  # SO_LINGER 0 is set: the peer gets RST
            except OSError:
                pass
            return
        super().shutdown_request(request)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tcsandbox"
    timeout = 600
    disable_nagle_algorithm = True  # headers and body go out as two writes

    def log_message(self, fmt, *args):
        if self.server.cfg.verbose:
            sys.stderr.write("tcsandbox: %s\n" % (fmt % args))

    def do_GET(self):
        self._drain()
        self._answer(ApiError("UnsupportedOperation",
                              "tcsandbox serves only POST / with a JSON body"), str(uuid.uuid4()))

    do_PUT = do_DELETE = do_HEAD = do_GET

    def _drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            self.close_connection = True
            self._answer(ApiError("RequestSizeLimitExceeded", "request body too large"),
                         str(uuid.uuid4()))
            return
        body = self.rfile.read(n) if n > 0 else b""
        srv = self.server
        if srv.faults.latency:
            time.sleep(srv.faults.latency)
        if self.path.split("?")[0] == control.PATH:
            result, rid = control.handle(srv, self.headers, body, self.client_address[0])
            self._answer(result, rid)
            return
        rid = str(uuid.uuid4())
        result = call(srv, self.headers, body, self.path, self.client_address[0], rid)
        if srv.faults.reset():
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            srv.resets.add(id(self.connection))
            self.close_connection = True
            return
        self._answer(result, rid)

    def _answer(self, result, rid):
        if isinstance(result, ApiError):
            payload = {"Response": {"Error": {"Code": result.code, "Message": result.message},
                                    "RequestId": rid}}
        else:
            payload = {"Response": dict(result, RequestId=rid)}
        data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        trace = self.headers.get("X-TC-TraceId")
        if trace:
            self.send_header("X-TC-TraceId", trace)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


def call(srv, raw_headers, body, path, ip, rid):
    """Run one API call; return the Response fields or an ApiError."""
    store, cfg, faults = srv.store, srv.cfg, srv.faults
    real = time.time()
    now = real + store.clock_offset()
    headers = {k.lower(): v for k, v in raw_headers.items()}
    ev = {"time": now, "EventName": headers.get("x-tc-action", ""), "service": "",
          "region": headers.get("x-tc-region", ""), "ip": ip, "request_id": rid,
          "secret_id": "", "uin": None, "username": "", "kind": "", "account": None,
          "write": not headers.get("x-tc-action", "").startswith(registry.READ_PREFIXES),
          "error": "", "message": "", "resources": []}
    gen = 0
    try:
        if path.split("?")[0] != "/":
            raise ApiError("UnsupportedOperation", "tcsandbox serves only POST /")
        signed = auth.parse(headers, real)
        ev["secret_id"], ev["service"] = signed.secret_id, signed.service
        with store.lock:
            if organization.settle(store.data, now):
                gen = store.mark_dirty()
            caller, secret = resolve(store, signed.secret_id, headers.get("x-tc-token"), now)
        ev.update(uin=caller.uin, username=caller.name, kind=caller.kind, account=caller.account)
        auth.verify(signed, secret, headers, body)
        act, region = route(signed.service, headers)
        ev["write"] = act.write
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError("InvalidParameter",
                           "Content-Type %r is not served; use application/json" % ctype)
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError("InvalidParameter", "the request body is not valid JSON")
        params = spec.validate(act.service, act.name, doc)
        ev["tags"] = cloudaudit.request_tags(params.data)
        if faults.rate_limited(act.service, act.name, real, caller.account):
            raise ApiError("RequestLimitExceeded",
                           "Your current request times equals to `%d` in a second, which exceeds "
                           "the frequency limit `%d` for a second, please reduce the frequency "
                           "of calls." % (faults.limit_for(act.name) + 1, faults.limit_for(act.name)))
        if faults.internal_error():
            raise ApiError("InternalError", "An internal error has occurred (injected by --fault-rate)")
        with store.lock:
            key = store.world(caller.account)["keys"].get(signed.secret_id)
            if key is not None:
                cam_keys.record_use(key, int(now))
            c = Ctx(store, cfg, act, params, caller, region, now, rid, ip)
            try:
                if act.kind == "op":
                    c.authorize("*")
                elif act.kind == "list":
                    c.authorize_list()
                elif act.kind == "free":
                    c.authorized = True
                result = act.fn(c)
                if act.kind == "res" and not c.authorized:
                    raise AssertionError("%s acted without authorize()" % act.name)
                problems = spec.check_response(act.service, act.name, result)
                if problems:
                    raise AssertionError("answer outside the SDK contract: %s" % "; ".join(problems))
            finally:
                ev["resources"] = c.resources
                if c.audit_also:
                    ev["also"] = c.audit_also
                if act.write:
                    gen = store.mark_dirty()
            store.add_event(ev)
        store.wait_saved(gen)
        return result
    except ApiError as e:
        ev["error"], ev["message"] = e.code, e.message
        result = e
    except Exception as e:  # a sandbox bug: say so loudly, answer InternalError
        traceback.print_exc(file=sys.stderr)
        ev["error"], ev["message"] = "InternalError", str(e)
        result = ApiError("InternalError", "tcsandbox bug: %s" % e)
    with store.lock:
        store.add_event(ev)
    if gen:
        store.wait_saved(gen)
    return result


def route(service, headers):
    actions = registry.load()
    name = headers.get("x-tc-action", "")
    if not name:
        raise ApiError("MissingParameter", "The request is missing a required parameter `Action`")
    if service not in registry.VERSIONS:
        raise ApiError("InvalidAction", "tcsandbox does not serve the service `%s`" % service)
    act = actions.get((service, name))
    if act is None:
        raise ApiError("InvalidAction", "The action `%s` is invalid for %s" % (name, service))
    version = headers.get("x-tc-version", "")
    if version != registry.VERSIONS[service]:
        raise ApiError("NoSuchVersion", "The API version `%s` of %s is not served (use %s)"
                       % (version, service, registry.VERSIONS[service]))
    region = headers.get("x-tc-region", "").strip()
    if not region:
        if service in registry.REGION_REQUIRED:
            raise ApiError("MissingParameter", "The request is missing a required parameter `Region`")
        region = registry.DEFAULT_REGION.get(service, "")
    elif region not in registry.REGIONS:
        raise ApiError("UnsupportedRegion", "The region `%s` is not supported" % region)
    return act, region
