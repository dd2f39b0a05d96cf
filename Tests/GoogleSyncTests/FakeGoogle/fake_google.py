"""A local stand-in for Google's OAuth 2.0 endpoints and the Admin SDK Directory API,
for the tests only (Google itself is not reachable from the test machines).

Written from Google's published formats:
- "Using OAuth 2.0 for Web Server Applications": the authorization endpoint's
  parameters (client_id, redirect_uri, response_type=code, scope, state,
  access_type=offline, prompt, code_challenge, code_challenge_method=S256), the
  redirect back with code/state or error=access_denied, the token endpoint's form
  requests (grant_type=authorization_code with code_verifier; grant_type=refresh_token)
  and JSON answers (access_token, expires_in, refresh_token, scope, token_type, id_token),
  and invalid_grant ("Token has been expired or revoked.") for a revoked refresh token;
- OpenID Connect's ID token claims Google documents (iss, aud, sub, email, email_verified, hd);
- Admin SDK Directory API v1: users.list (customer=my_customer, maxResults, pageToken),
  groups.list, members.list (groups/{groupKey}/members): kind, etag, users/groups/members,
  nextPageToken (the items key is absent on an empty page); the User, Group and Member
  resources; the error shape {"error": {"code", "message", "errors": [{"domain",
  "reason", "message"}], "status"}} with 401 authError, 404 notFound, 429 and 403
  rateLimitExceeded with Retry-After.

Usage: fake_google.py CLIENT_ID CLIENT_SECRET PORTFILE LOG
Listens on 127.0.0.1 only. The test changes the directory with POST /_control
(a JSON object whose keys replace the state's) and reads every request from LOG
(one JSON line each: method, path, query, status).
"""
import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse, unquote

CLIENT_ID, CLIENT_SECRET, PORTFILE, LOG = sys.argv[1:5]
LOCK = threading.Lock()
SCOPES = {
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
}
STATE = {
    "users": [],
    "groups": [],
    "members": {},
    "page_size": 500,          # the most items per page, whatever maxResults asks
    "account": {"email": "admin@acme.test", "hd": "acme.test"},
    "deny": False,             # the consent screen answers access_denied
    "revoked": False,          # every refresh token is refused (invalid_grant)
    "throttle": [],            # [{"prefix": path prefix, "count": n, "status": 429|403, "retry_after": "1"}]
}
CODES = {}      # code -> {challenge, redirect_uri, account}
REFRESH = {}    # refresh token -> account
ACCESS = set()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def id_token(account):
    now = int(time.time())
    header = {"alg": "RS256", "kid": "fake", "typ": "JWT"}
    claims = {"iss": "https://accounts.google.com", "azp": CLIENT_ID, "aud": CLIENT_ID,
              "sub": "1" + str(abs(hash(account["email"])))[:20], "email": account["email"],
              "email_verified": True, "iat": now, "exp": now + 3600}
    if account.get("hd"):
        claims["hd"] = account["hd"]
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()),
                     b64url(b"not-a-real-signature")])


def api_error(code, reason, message, status, domain="global"):
    return code, {"error": {"code": code, "message": message,
                            "errors": [{"message": message, "domain": domain, "reason": reason}],
                            "status": status}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, status, query):
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps({"method": self.command, "path": urlparse(self.path).path,
                                    "query": query, "status": status}) + "\n")

    def answer(self, status, body=None, headers=(), query=None):
        self.record(status, query or {})
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body is not None and not isinstance(body, bytes):
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    # --- the consent screen: the admin "clicks Allow" (or Deny) at once ---
    def do_GET(self):
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/o/oauth2/v2/auth":
            return self.consent(q)
        if url.path.startswith("/admin/directory/v1/"):
            return self.directory(url.path[len("/admin/directory/v1/"):], q)
        self.answer(404, {"error": "not found"}, query=q)

    def consent(self, q):
        problems = []
        if q.get("client_id") != CLIENT_ID:
            problems.append("invalid_client")
        if q.get("response_type") != "code":
            problems.append("response_type")
        if q.get("code_challenge_method") != "S256" or len(q.get("code_challenge", "")) != 43:
            problems.append("pkce")
        if not SCOPES.issubset(set(q.get("scope", "").split(" "))):
            problems.append("scope")
        if q.get("access_type") != "offline":
            problems.append("access_type")
        if not q.get("state") or not q.get("redirect_uri", "").startswith("http"):
            problems.append("state/redirect_uri")
        if problems:
            return self.answer(400, ("Error 400: invalid_request " + ",".join(problems)).encode(), query=q)
        target = q["redirect_uri"]
        with LOCK:
            deny, account = STATE["deny"], dict(STATE["account"])
        if deny:
            params = {"error": "access_denied", "state": q["state"]}
        else:
            code = "4/" + secrets.token_urlsafe(24)
            with LOCK:
                CODES[code] = {"challenge": q["code_challenge"], "redirect_uri": target, "account": account}
            params = {"code": code, "scope": q["scope"], "state": q["state"]}
        sep = "&" if "?" in target else "?"
        self.answer(302, b"", headers=[("Location", target + sep + urlencode(params))], query=q)

    # --- the token endpoint ---
    def do_POST(self):
        url = urlparse(self.path)
        body = self.read_body()
        if url.path == "/_control":
            with LOCK:
                STATE.update(json.loads(body))
            return self.answer(200, {"ok": True})
        if url.path != "/token":
            return self.answer(404, {"error": "not found"})
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        shown = {k: ("…" if k in ("client_secret", "code", "code_verifier", "refresh_token") else v) for k, v in form.items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return self.answer(401, {"error": "invalid_client", "error_description": "Unauthorized"}, query=shown)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with LOCK:
                entry = CODES.pop(form.get("code", ""), None)
            if entry is None:
                return self.answer(400, {"error": "invalid_grant", "error_description": "Malformed auth code."}, query=shown)
            verifier = form.get("code_verifier", "")
            if b64url(hashlib.sha256(verifier.encode()).digest()) != entry["challenge"]:
                return self.answer(400, {"error": "invalid_grant", "error_description": "Invalid code verifier."}, query=shown)
            if form.get("redirect_uri") != entry["redirect_uri"]:
                return self.answer(400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}, query=shown)
            refresh, access = "1//" + secrets.token_urlsafe(32), "ya29." + secrets.token_urlsafe(32)
            with LOCK:
                REFRESH[refresh] = entry["account"]
                ACCESS.add(access)
            return self.answer(200, {"access_token": access, "expires_in": 3599, "refresh_token": refresh,
                                     "scope": " ".join(sorted(SCOPES | {"openid", "https://www.googleapis.com/auth/userinfo.email"})),
                                     "token_type": "Bearer", "id_token": id_token(entry["account"])}, query=shown)
        if grant == "refresh_token":
            with LOCK:
                known = form.get("refresh_token") in REFRESH and not STATE["revoked"]
            if not known:
                return self.answer(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, query=shown)
            access = "ya29." + secrets.token_urlsafe(32)
            with LOCK:
                ACCESS.add(access)
            return self.answer(200, {"access_token": access, "expires_in": 3599, "scope": " ".join(sorted(SCOPES)),
                                     "token_type": "Bearer"}, query=shown)
        return self.answer(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type: " + str(grant)}, query=shown)

    # --- the Directory API ---
    def directory(self, path, q):
        auth = self.headers.get("Authorization", "")
        with LOCK:
            authorized = auth.startswith("Bearer ") and auth[7:] in ACCESS
            throttle = None
            for t in STATE["throttle"]:
                if ("/admin/directory/v1/" + path).startswith(t["prefix"]) and t["count"] > 0:
                    t["count"] -= 1
                    throttle = t
                    break
        if not authorized:
            status, body = api_error(401, "authError", "Invalid Credentials", "UNAUTHENTICATED")
            return self.answer(status, body, headers=[("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')], query=q)
        if throttle:
            status, body = api_error(throttle["status"], "rateLimitExceeded",
                                     "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'",
                                     "RESOURCE_EXHAUSTED" if throttle["status"] == 429 else "PERMISSION_DENIED", domain="usageLimits")
            headers = [("Retry-After", throttle["retry_after"])] if throttle.get("retry_after") else []
            return self.answer(status, body, headers=headers, query=q)
        parts = path.split("/")
        with LOCK:
            state = json.loads(json.dumps(STATE))
        if parts == ["users"] or parts == ["groups"]:
            if q.get("customer") != "my_customer" and not q.get("domain"):
                status, body = api_error(400, "badRequest", "Bad Request", "INVALID_ARGUMENT")
                return self.answer(status, body, query=q)
            kind = parts[0]
            return self.page(kind, state[kind], q, state["page_size"], 500 if kind == "users" else 200)
        if len(parts) == 3 and parts[0] == "groups" and parts[2] == "members":
            key = unquote(parts[1])
            if not any(g["id"] == key or g.get("email") == key for g in state["groups"]):
                status, body = api_error(404, "notFound", "Resource Not Found: groupKey", "NOT_FOUND")
                return self.answer(status, body, query=q)
            gid = next(g["id"] for g in state["groups"] if g["id"] == key or g.get("email") == key)
            return self.page("members", state["members"].get(gid, []), q, state["page_size"], 200)
        self.answer(404, {"error": {"code": 404, "message": "Not Found"}}, query=q)

    def page(self, kind, items, q, server_size, max_size):
        size = min(int(q.get("maxResults", max_size)), max_size, server_size)
        token = q.get("pageToken")
        start = 0
        if token:
            try:
                name, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
                assert name == kind
                start = int(offset)
            except Exception:
                status, body = api_error(400, "invalid", "Invalid Input: pageToken", "INVALID_ARGUMENT")
                return self.answer(status, body, query=q)
        chunk = items[start:start + size]
        body = {"kind": "admin#directory#" + kind, "etag": '"' + secrets.token_hex(8) + '"'}
        if chunk:
            body[kind] = chunk
        if start + size < len(items):
            body["nextPageToken"] = base64.urlsafe_b64encode(("%s:%d" % (kind, start + size)).encode()).decode()
        self.answer(200, body, query=q)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.replace(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
