"""Security headers on every response, as a pure ASGI middleware (no per-request objects beyond a header list).

Pages (text/html without Content-Disposition) get a strict Content-Security-Policy: scripts only from this
origin's files (no inline script, no eval, no on*= handlers), styles only from files plus `style` attributes
(bar widths), and nothing may frame the portal. Every other response (JSON, stored files, video, images) gets a
policy that denies everything and sandboxes the document, so an uploaded HTML or SVG file opened directly can
never run script on the portal's origin; a stored file of a kind that could (anything with Content-Disposition)
is also turned into a download. PDFs are the exception the browser's viewer needs (no sandbox, framed by our
own pages only). Also: nosniff, a same-origin referrer, no legacy framing, a closed opener, and HSTS once
cookies are Secure (which means the portal is served over TLS).

Every response that answers a credential (a session cookie or an `Authorization` header) or comes from the API,
exports included, is `Cache-Control: no-store` unless it says otherwise (static files never are): a shared
computer's cache or a proxy keeps no one's records.

`create_app` wraps the whole stack in this middleware, the server-error handler included, so a 500 carries the
headers too; the plain ASGI handlers in front of the framework (the heartbeat lane, the sign-in gate) send
`fixed_headers(...)` with their answers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def page_policy(extra_media: tuple[str, ...] = ()) -> str:
    media = " ".join(extra_media)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            # style="" attributes only (progress bars); <style> elements stay blocked.
            "style-src-attr 'unsafe-inline'",
            f"img-src 'self' data: blob: {media}".strip(),
            f"media-src 'self' blob: {media}".strip(),
            "connect-src 'self'",
            "font-src 'self'",
            # The lesson page embeds its PDF with <object>; plugins from elsewhere stay blocked.
            "object-src 'self'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        ]
    )


# Types a browser renders as a document that can run script. Pages never carry Content-Disposition; files do.
ACTIVE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml", "text/javascript",
     "application/javascript", "text/xsl", "application/x-shockwave-flash"}
)  # fmt: skip
FILE_POLICY = "default-src 'none'; frame-ancestors 'self'; sandbox"
PDF_POLICY = "default-src 'none'; frame-ancestors 'self'"


NO_STORE = "no-store"


class SecurityHeaders:
    def __init__(
        self, app: ASGIApp, *, media_origins: tuple[str, ...] = (), hsts: bool = False,
        session_cookie: str = "portal_session",
    ) -> None:  # fmt: skip
        self.app = app
        self.session_cookie = session_cookie.encode() + b"="
        self.page_policy = page_policy(media_origins)
        common = [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("cross-origin-opener-policy", "same-origin"),
            ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if hsts:
            common.append(("strict-transport-security", "max-age=31536000; includeSubDomains"))
        self.common = common

    def fixed_headers(self, content_type: str = "application/json") -> list[tuple[bytes, bytes]]:
        """The headers of an answer made outside the stack (no stored file, no page): the common ones, the policy
        for `content_type`, and no-store (such answers are about a credential: a heartbeat, a sign-in)."""
        kind = content_type.split(";", 1)[0].strip().lower()
        policy = self.page_policy if kind == "text/html" else FILE_POLICY
        pairs = [*self.common, ("content-security-policy", policy),
                 ("x-frame-options", "DENY" if kind == "text/html" else "SAMEORIGIN"), ("cache-control", NO_STORE)]
        return [(k.encode(), v.encode()) for k, v in pairs]

    def _private(self, scope: Scope) -> bool:
        path: str = scope.get("path", "")
        if path.startswith("/static/"):
            return False
        if path.startswith("/api/"):
            return True
        for key, value in scope.get("headers", ()):
            if key == b"authorization" or (key == b"cookie" and self.session_cookie in value):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = self._private(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in self.common:
                    headers[key] = value
                if private and "cache-control" not in headers:
                    headers["cache-control"] = NO_STORE
                kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if "content-disposition" in headers and kind in ACTIVE_TYPES:
                    # A stored file of a kind a browser would run: only ever a download, never a document.
                    headers["content-type"] = "application/octet-stream"
                    headers["content-disposition"] = "attachment"
                    kind = "application/octet-stream"
                    headers["content-security-policy"] = FILE_POLICY
                if "content-security-policy" not in headers:
                    if kind == "text/html":
                        headers["content-security-policy"] = self.page_policy
                    elif kind == "application/pdf":
                        headers["content-security-policy"] = PDF_POLICY
                    else:
                        headers["content-security-policy"] = FILE_POLICY
                headers["x-frame-options"] = "DENY" if kind == "text/html" else "SAMEORIGIN"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def origin_of(url: str | None, secure: bool = True) -> str | None:
    """scheme://host[:port] of an endpoint setting (S3's public endpoint may be given without a scheme)."""
    if not url:
        return None
    if "://" not in url:
        url = ("https://" if secure else "http://") + url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None


def media_origins(settings: object) -> tuple[str, ...]:
    """Where browsers fetch media from besides the portal: the object store, when presigned URLs are used."""
    if getattr(settings, "storage_backend", "local") != "s3":
        return ()
    secure = bool(getattr(settings, "s3_secure", False))
    endpoint = getattr(settings, "s3_public_endpoint", None) or getattr(settings, "s3_endpoint", None)
    origin = origin_of(endpoint, secure)
    return (origin,) if origin else ()


def for_settings(app: ASGIApp, settings: object) -> SecurityHeaders:
    """The middleware as the settings configure it, wrapped around `app`."""
    return SecurityHeaders(
        app, media_origins=media_origins(settings), hsts=bool(getattr(settings, "cookie_secure", False)),
        session_cookie=str(getattr(settings, "session_cookie_name", "portal_session")),
    )  # fmt: skip
