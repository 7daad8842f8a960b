"""Certificate pages: 我的证书 for teachers, 证书管理 for administrators, and the public check /verify/<number>."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from backend.accounts.deps import AdminUser, CurrentUser
from backend.accounts.models import User
from backend.config import Settings
from backend.credits import certificates
from backend.credits.certificate_models import Certificate
from backend.db import SessionDep
from backend.kit import clock, lists, ratelimit
from backend.kit.errors import InvalidInput
from backend.kit.i18n import _, translate
from backend.kit.state import SettingsDep
from backend.kit.web import download_headers, is_htmx, redirect, render, request_locale
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)

VERIFY_BUCKET = "verify"
RATE_LIMITED = _("Too many certificate checks from your network.")


def _client(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers puts the forwarded client address here.
    return request.client.host if request.client else "unknown"


def verify_url(request: Request, settings: Settings, number: str) -> str:
    base = settings.public_base_url or str(request.base_url)
    return f"{base.rstrip('/')}/verify/{quote(number)}"


# --- teachers: 我的证书 ----------------------------------------------------------------------------------------------


@pages.get("/certificates")
def my_certificates(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(
        request,
        "credits/certificates.html",
        {
            "certificates": certificates.mine(session, user),
            "claimable": certificates.claimable(session, user, load_policy(session)),
            "kinds": certificates.KINDS,
        },
    )


@pages.post("/certificates/courses/{course_id}")
def claim_course_certificate(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    certificates.issue_course_certificate(session, user, course_id)
    return redirect(request, "/certificates")


@pages.post("/certificates/induction")
def claim_induction_certificate(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    certificates.issue_induction_certificate(session, user, load_policy(session))
    return redirect(request, "/certificates")


@pages.get("/certificates/{number}.pdf")
def download(request: Request, number: str, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> Response:
    # A plain function: FastAPI runs it on the thread pool, so the second of drawing stays off the event loop.
    certificate = certificates.for_download(session, user, number)
    pdf = certificates.render_pdf(certificate, verify_url(request, settings, certificate.number))
    return Response(
        pdf,
        media_type="application/pdf",
        headers=download_headers(f"{certificate.number}.pdf", fallback=f"{certificate.number}.pdf"),
    )


# --- administrators: 证书管理 ----------------------------------------------------------------------------------------


def _admin_page(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    q: str | None = None,
    page: int = 1,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    candidates: list[certificates.Candidate] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "credits/admin_certificates.html",
        {
            "page": certificates.admin_list(session, user, query=q, page=page),
            "q": lists.text(q),
            "kinds": certificates.KINDS,
            "values": values or {"year": str(clock.local_year(clock.now()) - 1)},
            "errors": errors or {},
            "candidates": candidates or [],
        },
        block="results",
        status=status,
    )


@pages.get("/admin/certificates")
def admin_certificates(
    request: Request, session: SessionDep, user: AdminUser, q: str | None = None, page: str | None = None
) -> Response:
    return _admin_page(request, session, user, q=q, page=lists.page_number(page))


@pages.post("/admin/certificates/year")
def issue_year_certificate(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    username: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    teacher_id: Annotated[str, Form()] = "",
) -> Response:
    """`username`: whatever identifies the teacher (name, staff number or username); `teacher_id`: the teacher
    chosen when several matched."""
    chosen = int(teacher_id) if teacher_id.isdigit() and len(teacher_id) < 10 else None
    try:
        with session.begin_nested():
            certificate = certificates.issue_year_certificate(session, user, username, year, chosen)
    except InvalidInput as exc:
        if is_htmx(request):
            raise
        values = {"username": username, "year": year}
        candidates = exc.candidates if isinstance(exc, certificates.SeveralTeachers) else []
        return _admin_page(request, session, user, values=values, errors=exc.fields, candidates=candidates,
                           status=422)  # fmt: skip
    return redirect(request, f"/admin/certificates/{certificate.number}")


@pages.get("/admin/certificates/{number}")
def admin_certificate(request: Request, number: str, session: SessionDep, user: AdminUser) -> Response:
    certificate, holder = certificates.for_actor(session, user, number)
    return _detail(request, session, certificate, holder)


def _detail(
    request: Request,
    session: SessionDep,
    certificate: Certificate,
    holder: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    candidates: list[certificates.Candidate] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "credits/admin_certificate.html",
        {
            "certificate": certificate,
            "holder": holder,
            "hours_now": certificates.current_hours(session, certificate, load_policy(session)),
            "kinds": certificates.KINDS,
            "values": values or {},
            "errors": errors or {},
        },
        status=status,
    )


@pages.post("/admin/certificates/{number}/revoke")
def revoke_certificate(
    request: Request, number: str, session: SessionDep, user: AdminUser, reason: Annotated[str, Form()] = ""
) -> Response:
    try:
        with session.begin_nested():
            certificate = certificates.revoke(session, user, number, reason, address=_client(request))
    except InvalidInput as exc:
        if is_htmx(request):
            raise
        certificate, holder = certificates.for_actor(session, user, number)
        return _detail(request, session, certificate, holder, values={"reason": reason}, errors=exc.fields, status=422)
    return redirect(request, f"/admin/certificates/{certificate.number}")


# --- the public check: no login ---------------------------------------------------------------------------------


@pages.get("/verify")
def verify_form(request: Request, number: str | None = None) -> Response:
    if number and number.strip():
        return redirect(request, f"/verify/{quote(number.strip())}")
    return render(request, "credits/verify.html", {"result": None})


@pages.get("/verify/{number}")
def verify(request: Request, number: str, session: SessionDep, settings: SettingsDep) -> Response:
    decision = ratelimit.hit(
        session,
        VERIFY_BUCKET,
        _client(request),
        limit=settings.verify_rate_limit,
        window_seconds=settings.verify_rate_window_seconds,
    )
    headers = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    wants_json = "application/json" in request.headers.get("accept", "")
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after_seconds)
        if wants_json:
            message = translate(request_locale(request), RATE_LIMITED)
            return JSONResponse({"error": "rate_limited", "detail": message}, status_code=429, headers=headers)
        response = render(
            request, "credits/verify_limited.html", {"retry_after": decision.retry_after_seconds}, status=429
        )
        response.headers.update(headers)
        return response
    result = certificates.verify(session, number)
    if wants_json:
        body = {
            "number": result.number,
            "status": result.status,
            "holder": result.holder,
            "hours": None if result.hours is None else str(result.hours),
        }
        return JSONResponse(body, headers=headers)
    response = render(request, "credits/verify.html", {"result": result})
    response.headers.update(headers)
    return response
