"""Rendering: one URL, two renderings. A normal request gets the full page; an htmx request gets only the block
that changes. Every template sees the translator, the CSRF token and the formatting helpers; the app adds the
domain's globals (the tiers and topics) with `add_template_globals`, so this module names no domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks
from markdown_it import MarkdownIt
from markupsafe import Markup

from backend.config import PROJECT_ROOT
from backend.kit.clock import SHANGHAI
from backend.kit.csrf import CSRF_FIELD, csrf_token
from backend.kit.i18n import translator
from backend.kit.state import app_state

LOCALE_COOKIE = "portal_lang"
templates = Jinja2Blocks(directory=str(PROJECT_ROOT / "web" / "templates"))
# html=False: course text is Markdown written by trainers; raw HTML in it is shown as text, never run.
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def add_template_globals(**values: Any) -> None:
    """Names every template sees besides the request's own context (set once, by the app at import)."""
    templates.env.globals.update(values)


def is_htmx(request: Request) -> bool:
    """An htmx request that swaps a part of the page. A history restore (the back button, when htmx has no snapshot
    of the page) asks for the whole page, so it gets the full rendering."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def request_locale(request: Request) -> str:
    return getattr(request.state, "locale", app_state(request).settings.default_locale)


def fmt_hours(value: Decimal | float | int | None) -> str:
    quantized = Decimal(str(value or 0)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{quantized}"


def fmt_date(value: date | None, locale: str = "zh_CN") -> str:
    """A moment as its Shanghai calendar day, or a calendar day as it is (a record's date has no time zone)."""
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI) if isinstance(value, datetime) else value
    return f"{local.year}年{local.month}月{local.day}日" if locale == "zh_CN" else local.strftime("%Y-%m-%d")


def fmt_datetime(value: datetime | None, locale: str = "zh_CN") -> str:
    if value is None:
        return ""
    return f"{fmt_date(value, locale)} {value.astimezone(SHANGHAI):%H:%M}"


def fmt_duration(ms: int | None) -> str:
    seconds = round((ms or 0) / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_markdown(text: str) -> Markup:
    return Markup(_markdown.render(text or ""))  # noqa: S704  # nosec B704 - markdown-it escapes raw HTML (html=False)


# Values every full page shows that belong to a domain (the header's count of unread notices): domains register a
# function of the request here, so the ground imports no domain.
_CONTEXT_PROVIDERS: list[Callable[[Request], dict[str, Any]]] = []


def register_context(provider: Callable[[Request], dict[str, Any]]) -> None:
    _CONTEXT_PROVIDERS.append(provider)


def base_context(request: Request) -> dict[str, Any]:
    locale = request_locale(request)
    _ = translator(locale)
    return {
        "request": request,
        "htmx": is_htmx(request),
        "user": getattr(request.state, "viewer", None),
        "_": _,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "csrf_token": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "hours": fmt_hours,
        "date": lambda v: fmt_date(v, locale),
        "datetime": lambda v: fmt_datetime(v, locale),
        "duration": fmt_duration,
        "markdown": render_markdown,
        "settings": app_state(request).settings,  # the switches a page shows (sign-in with SSO, with a password)
    }


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, block: str | None = None, status: int = 200
) -> HTMLResponse:
    ctx = base_context(request) | (context or {})
    if block and is_htmx(request):
        response = templates.TemplateResponse(request, name, ctx, block_name=block, status_code=status)
    else:
        for provider in _CONTEXT_PROVIDERS:  # whole pages only: a swapped block has no header
            ctx |= provider(request)
        response = templates.TemplateResponse(request, name, ctx, status_code=status)
    response.headers["Vary"] = "HX-Request"
    return response  # type: ignore[return-value]


# Characters a path and query may keep as they are; anything else (non-ASCII, spaces) is percent-encoded.
_URL_SAFE = "/?&=%#:@!$'()*+,;~-._"
MAX_NEXT_LENGTH = 500


def same_origin_path(url: str | None, default: str = "/") -> str:
    """The one check of every `next=` target (sign-in steps, SSO, language switch, redirects): a path on this site,
    percent-encoded, or `default`. Refused: anything with a scheme or host, `//host`, and `/\\host` (browsers read
    a backslash as a slash), control characters, and more than MAX_NEXT_LENGTH characters."""
    if (
        not url or not url.startswith("/") or url.startswith("//") or "\\" in url or len(url) > MAX_NEXT_LENGTH
        or any(ord(c) < 32 or ord(c) == 127 for c in url)
    ):  # fmt: skip
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return default
    return quote(url, safe=_URL_SAFE)


def redirect(request: Request, url: str) -> Response:
    """A redirect that also works for htmx requests (which follow HX-Redirect, not 303). Header values are ASCII:
    the target is percent-encoded (a `next=/中` is a path, not a server error)."""
    url = quote(url, safe=_URL_SAFE)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def download_headers(filename: str, *, fallback: str = "download", inline: bool = False) -> dict[str, str]:
    """The headers of a file the portal hands out. RFC 6266: an ASCII fallback name plus the UTF-8 name, so Chinese
    file names survive every browser; private and never stored, because every file here is someone's records."""
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-store",
    }
