"""create_app(): settings, database, storage, middleware, routers and the one error handler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.config import PROJECT_ROOT, Settings, get_settings
from backend.db import session_factory
from backend.kit.csrf import verify_csrf
from backend.kit.error_schema import ERROR_RESPONSES
from backend.kit.errors import AppError, NotAuthenticated
from backend.kit.i18n import translate
from backend.kit.locale_middleware import LocaleAndCookies
from backend.kit.path_ids import ids_in_range, unstorable
from backend.kit.web import is_htmx, redirect, render
from backend.learning.heartbeat_lane import HeartbeatLane
from backend.learning.hotpath import HeartbeatWriter
from backend.media.storage import StorageError, build_storage

log = logging.getLogger("portal")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error_response(request: Request, status: int, code: str, message: str, fields: dict[str, str]) -> Response:
    locale = getattr(request.state, "locale", request.app.state.settings.default_locale)
    text = translate(locale, message)
    field_text = {k: translate(locale, v) for k, v in fields.items()}
    if _wants_json(request):
        body: dict[str, object] = {"error": code, "detail": text}
        if field_text:
            body["fields"] = field_text
        return JSONResponse(body, status_code=status)
    context = {"status": status, "message": text, "fields": field_text}
    if is_htmx(request):
        # htmx does not swap 4xx responses by default; the error partial is retargeted to the page's message area.
        response = render(request, "partials/error.html", context, status=status)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "errors/error.html", context, status=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        if isinstance(exc, NotAuthenticated) and not _wants_json(request):
            target = "/login?" + urlencode({"next": request.url.path})
            return redirect(request, target)
        message = translate(getattr(request.state, "locale", "zh_CN"), exc.message, **exc.params)
        return _error_response(request, exc.status_code, exc.code, message, exc.fields)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        fields = {".".join(str(p) for p in err["loc"][1:]) or "body": err["msg"] for err in exc.errors()}
        detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
        if _wants_json(request):
            return JSONResponse({"error": "invalid_input", "detail": detail, "fields": fields}, status_code=422)
        return _error_response(request, 422, "invalid_input", f"The request was not valid: {detail}", {})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {404: "This page does not exist.", 405: "This action is not allowed here."}
        message = messages.get(exc.status_code, str(exc.detail))
        return _error_response(request, exc.status_code, "http_error", message, {})

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        log.warning("integrity error on %s: %s", request.url.path, exc.orig)
        return _error_response(
            request, 409, "conflict", "This changed at the same moment elsewhere. Please try again.", {}
        )

    @app.exception_handler(StorageError)
    async def storage_error(request: Request, exc: StorageError) -> Response:
        log.error("storage error on %s: %s", request.url.path, exc)
        return _error_response(request, 503, "storage_unavailable", "Media storage is unavailable right now.", {})

    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def unstorable_value(request: Request, exc: Exception) -> Response:
        message = unstorable(exc)
        if message is None:  # any other data error is a bug: a 500 that gets logged
            raise exc
        return _error_response(request, 422, "invalid_input", message, {})

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)  # every database connection busy (e.g. a storm of slow logins)
    async def database_error(request: Request, exc: Exception) -> Response:
        log.error("database error on %s: %s", request.url.path, exc)
        return _error_response(request, 503, "database_unavailable", "The database is busy. Please try again.", {})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writer = HeartbeatWriter(app.state.settings.database_url)
        app.state.heartbeats = writer
        await writer.start()
        try:
            yield
        finally:
            await writer.stop()

    app = FastAPI(
        title="松江区班主任网络研修平台",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf), Depends(ids_in_range)],  # ids_in_range: 404, not a 500
        docs_url="/api/docs",
        redoc_url=None,
        responses=ERROR_RESPONSES,  # the error body the handlers below really send (backend/kit/error_schema.py)
    )
    app.state.settings = settings
    app.state.sessionmaker = session_factory(settings)
    app.state.storage = build_storage(settings)

    app.add_middleware(
        LocaleAndCookies, default_locale=settings.default_locale, cookie_secure=settings.cookie_secure
    )
    from backend.kit.security_headers import install as install_security_headers  # issue 6: CSP and friends

    install_security_headers(app, settings)
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(PROJECT_ROOT / "web" / "static")), name="static")

    from backend.accounts.routes import api as accounts_api
    from backend.accounts.routes import pages as accounts_pages
    from backend.catalogue.routes import api as catalogue_api
    from backend.catalogue.routes import pages as catalogue_pages
    from backend.catalogue.studio_routes import router as studio_router
    from backend.evidence.routes import pages as evidence_pages
    from backend.health import router as health_router
    from backend.learning.routes import api as learning_api
    from backend.learning.routes import pages as learning_pages
    from backend.media.routes import router as media_router
    from backend.media.upload_routes import router as uploads_router
    from backend.quizzes.assignment_routes import pages as assignment_pages
    from backend.quizzes.grading_routes import pages as grading_pages
    from backend.quizzes.routes import api as quizzes_api
    from backend.quizzes.routes import pages as quizzes_pages
    from backend.quizzes.studio_routes import pages as assessment_studio_pages

    for router in (accounts_pages, catalogue_pages, learning_pages, quizzes_pages, media_router, health_router):
        app.include_router(router)
    app.include_router(evidence_pages)
    from backend.credits.routes import pages as credits_pages  # issue 5, ledger queues and programmes
    from backend.policies.routes import pages as policy_pages  # issue 5, the policy page

    app.include_router(credits_pages)
    app.include_router(policy_pages)
    for router in (assignment_pages, grading_pages, assessment_studio_pages):
        app.include_router(router)
    app.include_router(studio_router)
    app.include_router(uploads_router)
    from backend.training.routes import pages as training_pages  # issue 5, offline study

    app.include_router(training_pages)
    from backend.accounts.sso_routes import pages as sso_pages

    app.include_router(sso_pages)
    from backend.accounts.token_routes import pages as token_pages  # issue 6, integration tokens
    from backend.credits.integration import api as credits_integration_api
    from backend.people.integration import api as people_integration_api

    app.include_router(token_pages)
    app.include_router(people_integration_api, prefix="/api/v1")
    app.include_router(credits_integration_api, prefix="/api/v1")
    from backend.accounts.security_routes import pages as security_pages  # issue 6, accounts and 2FA
    from backend.audit.routes import pages as audit_pages  # issue 6, the audit log page

    app.include_router(security_pages)
    app.include_router(audit_pages)
    from backend.people.routes import pages as people_pages  # issue 5, teacher records and title review

    app.include_router(people_pages)
    from backend.credits.certificate_routes import pages as certificate_pages  # issue 5, certificates

    app.include_router(certificate_pages)
    for router in (accounts_api, catalogue_api, learning_api, quizzes_api):
        app.include_router(router, prefix="/api/v1")
    if settings.bench_endpoints:
        app.include_router(__import__("backend.bench", fromlist=["router"]).router)
    # Added last, so they run first: the busiest request, and sign-ins refused in a storm, skip the framework.
    from backend.accounts.login_gate import LoginGate

    app.add_middleware(LoginGate, default_locale=settings.default_locale)
    app.add_middleware(HeartbeatLane)
    return app
