"""The web server around the Streamlit script: the session-cookie routes, the upload guard and
the single sign-on plumbing.

`app.py` builds `st.App(app.py, routes=routes(), middleware=middleware())` when the server
imports it (`streamlit run app.py` and `procurement serve` both serve it that way), and runs as
the Streamlit script otherwise. What this adds to Streamlit's own server:

* `POST /api/session/establish` exchanges the one-time ticket of a sign-in
  (`Services.start_session`) for the session cookie: a random token, `HttpOnly`,
  `SameSite=Strict`, `Secure` behind https. The page sends it with a same-origin `fetch` right
  after sign-in (`procurement.ui.session`); Streamlit reads the cookie from the websocket
  handshake (`st.context.cookies`), so a reload or a link opened in a new tab finds the session.
  `POST /api/session/clear` deletes the cookie at sign-out (the session itself is already ended
  on the server, which is what makes a copied cookie worthless).
* `UploadGuard`: Streamlit keeps uploaded files of any session in memory, and its upload
  endpoint only needs a session id and an XSRF pair that anyone can get. The guard lets a file
  in only for a Streamlit session bound to a live signed-in session, with the matching cookie,
  and within a per-session byte quota. It never reads the request body.

* Single sign-on (OpenID Connect through Streamlit's `st.login`, configured by `[auth]` in
  `.streamlit/secrets.toml` or by the `PROCUREMENT_OIDC_*` variables: `auth_secrets()`).
  `ClearOnLogout` deletes our session cookie on Streamlit's `/auth/logout` (a full navigation:
  the page's own clear request may never run); `ReturnAfterLogin` brings the user back to the
  address they signed in from (`st.login` always lands on the root otherwise).

Choice, documented in docs/security.md: cookies cannot be set from a Streamlit script, and a
cookie written by page JavaScript cannot be HttpOnly; a route of `st.App` can. Tried and measured
before building it: the cookie survives reloads and new tabs, and is invisible to page scripts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from procurement import config
from procurement.errors import ProcurementError

#: The session cookie's name.
COOKIE = "procurement_session"
#: The header the page's fetch adds: a cross-site page cannot send it without a CORS preflight,
#: which is never granted (login CSRF with someone else's ticket).
CSRF_HEADER = "x-procurement"
UPLOAD_PREFIX = "/_stcore/upload_file/"
#: Bytes one browser session may keep uploaded at once (the pack page takes bundles of 8 MB).
MAX_SESSION_UPLOAD_BYTES = 16 * 1024 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

# Streamlit session id -> the signed-in web session it belongs to (process-local: a Streamlit
# session lives in one process). Written by the script on every run, read by UploadGuard.
_bound: dict[str, int] = {}
_bound_lock = threading.Lock()
_services: Any = None


def bind(streamlit_session_id: str, web_session_id: int | None) -> None:
    """Record which web session a Streamlit session (a browser tab) is signed in with."""
    with _bound_lock:
        if web_session_id is None:
            _bound.pop(streamlit_session_id, None)
        else:
            _bound[streamlit_session_id] = web_session_id


def bound(streamlit_session_id: str) -> int | None:
    with _bound_lock:
        return _bound.get(streamlit_session_id)


def _get_services() -> Any:
    global _services
    if _services is None:
        from procurement.runtime import open_services

        _services = open_services(config.database_url(), str(config.rules_dir()),
                                  notice=_say)
    return _services


def _say(message: str) -> None:
    import sys

    print(f"procurement: {message}", file=sys.stderr, flush=True)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    return bool(origin and host and origin.split("://", 1)[-1] == host
                and request.headers.get(CSRF_HEADER) == "1")


def _secure(request: Request) -> bool:
    proto = request.headers.get("x-forwarded-proto") or request.url.scheme
    return proto == "https"


async def establish(request: Request) -> Response:
    """Exchange a sign-in ticket for the session cookie."""
    if not _same_origin(request):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    try:
        ticket = str(json.loads(await request.body())["ticket"])
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "bad request"}, status_code=400)
    try:
        token = await run_in_threadpool(_get_services().exchange_ticket, ticket)
    except ProcurementError:
        return JSONResponse({"error": "unavailable"}, status_code=503)
    if token is None:
        return JSONResponse({"error": "invalid ticket"}, status_code=400)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    # No max-age: a browser-session cookie; the server-side idle timeout decides validity.
    response.set_cookie(COOKIE, token, path="/", httponly=True, samesite="strict",
                        secure=_secure(request))
    return response


async def clear(request: Request) -> Response:
    """Delete the session cookie (the session was ended on the server before)."""
    if not _same_origin(request):
        return Response(status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=_secure(request))
    return response


def routes() -> list[Route]:
    """The routes `st.App` serves beside Streamlit's."""
    return [Route("/api/session/establish", establish, methods=["POST"]),
            Route("/api/session/clear", clear, methods=["POST"])]


def cookie_from_scope(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:
                return None
            if name in jar:
                return jar[name].value
    return None


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _stored_bytes(streamlit_session_id: str) -> int:
    from streamlit import runtime

    manager = runtime.get_instance().uploaded_file_mgr
    files = getattr(manager, "file_storage", {}).get(streamlit_session_id, {})
    return sum(len(f.data) for f in files.values())


class UploadGuard:
    """Pure ASGI middleware in front of Streamlit's upload endpoint (see the module docstring)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]],
                 max_session_bytes: int = MAX_SESSION_UPLOAD_BYTES) -> None:
        self.app = app
        self.max_session_bytes = max_session_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "PUT"
                or not scope["path"].startswith(UPLOAD_PREFIX)):
            await self.app(scope, receive, send)
            return
        streamlit_session = scope["path"][len(UPLOAD_PREFIX):].split("/")[0]
        web_session = bound(streamlit_session)
        token = cookie_from_scope(scope, COOKIE)
        if web_session is None or not token:
            await _plain(send, 403, b"sign-in required")
            return
        try:
            actor = await run_in_threadpool(_get_services().resume_session, token=token)
        except ProcurementError:
            await _plain(send, 403, b"sign-in required")
            return
        if actor.session_id != web_session:
            await _plain(send, 403, b"sign-in required")
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is None or not length.isdigit():
            await _plain(send, 411, b"length required")
            return
        if _stored_bytes(streamlit_session) + int(length) > self.max_session_bytes:
            await _plain(send, 413, b"upload quota of this session exceeded")
            return
        await self.app(scope, receive, send)


def announce_setup_token() -> None:
    """On an installation without users, make the one-time first-run setup token (if no other
    process made one) and print it on this server's console, as Jupyter prints its token."""
    import sys

    try:
        token = _get_services().ensure_setup_token()
    except ProcurementError as exc:
        print(f"procurement: {exc.message}", file=sys.stderr)
        return
    if token:
        print("procurement: this installation has no users yet. To set it up, open the app and "
              f"enter this one-time setup token:\n\n    {token}\n\n(`procurement setup-token` "
              "makes a new one.)", file=sys.stderr, flush=True)


def _url_prefix() -> str:
    """`/<server.baseUrlPath>` or "": Streamlit's own routes are under it, ours too."""
    from streamlit import config as st_config

    base = (st_config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _cookie_header(name: str, value: str, *, max_age: int, samesite: str, secure: bool) -> bytes:
    return (f"{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite={samesite}"
            + ("; Secure" if secure else "")).encode("latin-1")


def _scope_secure(scope: Scope) -> bool:
    proto = dict(scope.get("headers", [])).get(b"x-forwarded-proto", b"").decode("latin-1")
    return (proto or scope.get("scheme", "http")) == "https"


class ClearOnLogout:
    """Deletes the session cookie in the response of Streamlit's `/auth/logout`.

    The sign-out button ends the session on the server, then calls `st.logout()`, which
    navigates the whole page to `/auth/logout` (and on to the provider): the page's own request
    that deletes the cookie may never run, so the cookie is deleted here."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != _url_prefix() + "/auth/logout":
            await self.app(scope, receive, send)
            return
        clear = _cookie_header(COOKIE, "", max_age=0, samesite="Strict",
                               secure=_scope_secure(scope))

        async def send_with_cookie(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"set-cookie", clear)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


#: The short-lived cookie holding where to return after the provider's sign-in.
NEXT_COOKIE = "procurement_next"


def _relative_target(value: str | None) -> str | None:
    """`value` if it is a path on this site (`/...`, never `//host` or a scheme), else None."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


class ReturnAfterLogin:
    """`st.login` always lands on the app's root, losing the page and its parameters (a link to
    a case). On `/auth/login` this remembers the same-origin `Referer` in a 10-minute cookie
    (HttpOnly, SameSite=Lax: the provider's redirect back is a cross-site navigation), and
    points the redirect that `/oauth2callback` answers with back there."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = _url_prefix()
        login, callback = prefix + "/auth/login", prefix + "/oauth2callback"
        if scope["type"] != "http" or scope["path"] not in (login, callback):
            await self.app(scope, receive, send)
            return
        from urllib.parse import quote, unquote, urlsplit

        secure = _scope_secure(scope)
        headers = dict(scope.get("headers", []))
        target: str | None = None
        if scope["path"] == login:
            referer = urlsplit(headers.get(b"referer", b"").decode("latin-1"))
            host = headers.get(b"host", b"").decode("latin-1")
            if referer.netloc == host and referer.path != login:
                target = _relative_target(referer.path + (f"?{referer.query}" if referer.query
                                                          else ""))
            cookie = (_cookie_header(NEXT_COOKIE, quote(target, safe=""), max_age=600,
                                     samesite="Lax", secure=secure) if target else None)
        else:
            stored = cookie_from_scope(scope, NEXT_COOKIE)
            target = _relative_target(unquote(stored)) if stored else None
            cookie = _cookie_header(NEXT_COOKIE, "", max_age=0, samesite="Lax", secure=secure)

        async def send_redirected(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out = list(message.get("headers", []))
                if (scope["path"] == callback and target
                        and message.get("status") in (302, 303, 307)):
                    out = [(k, v) for k, v in out if k.lower() != b"location"]
                    out.append((b"location", target.encode("latin-1")))
                if cookie is not None:
                    out.append((b"set-cookie", cookie))
                message = {**message, "headers": out}
            await send(message)

        await self.app(scope, receive, send_redirected)


def auth_secrets() -> dict[str, Any] | None:
    """`{"auth": {...}}` for `st.App(secrets=...)` when single sign-on is configured through the
    `PROCUREMENT_OIDC_*` variables (`procurement.config.oidc_auth_section`); None otherwise,
    and then `[auth]` in `.streamlit/secrets.toml`, if any, configures `st.login`."""
    section = config.oidc_auth_section()
    return None if section is None else {"auth": section}


def middleware() -> list[Middleware]:
    """The middleware `st.App` runs in front of Streamlit's."""
    return [Middleware(UploadGuard), Middleware(ClearOnLogout), Middleware(ReturnAfterLogin)]
