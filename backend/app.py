"""create_app(): settings, database, storage, middleware, routers and the one error handler."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from backend.accounts import hashing, oidc
from backend.accounts.routes import api as accounts_api
from backend.accounts.routes import pages as accounts_pages
from backend.accounts.security_routes import pages as security_pages
from backend.accounts.sso_routes import pages as sso_pages
from backend.accounts.token_routes import pages as token_pages
from backend.admin.audit_routes import pages as audit_pages
from backend.admin.policy_routes import pages as policy_pages
from backend.catalogue.routes import api as catalogue_api
from backend.catalogue.routes import pages as catalogue_pages
from backend.catalogue.studio_routes import router as studio_router
from backend.config import PROJECT_ROOT, Settings, get_settings
from backend.credits.certificate_routes import pages as certificate_pages
from backend.credits.integration import api as credits_integration_api
from backend.credits.routes import pages as credits_pages
from backend.dashboards.routes import pages as dashboard_pages
from backend.db import session_factory
from backend.evidence.routes import pages as evidence_pages
from backend.evidence.title_review_routes import pages as title_review_pages
from backend.health import router as health_router
from backend.kit import metrics, security_headers
from backend.kit.body_limit import BodyLimit
from backend.kit.csrf import verify_csrf
from backend.kit.error_schema import ERROR_RESPONSES, error_body, validation_body
from backend.kit.errors import AppError, NotAuthenticated
from backend.kit.i18n import translate
from backend.kit.locale_middleware import LocaleAndCookies
from backend.kit.path_ids import ids_in_range, unstorable
from backend.kit.state import AppState, app_state, state_of
from backend.kit.telemetry import Telemetry
from backend.kit.web import add_template_globals, is_htmx, redirect, render
from backend.learning.heartbeat_lane import HEARTBEAT_PATH, HeartbeatLane
from backend.learning.hotpath import HeartbeatWriter
from backend.learning.lesson_files import router as lesson_files_router
from backend.learning.routes import api as learning_api
from backend.learning.routes import pages as learning_pages
from backend.media.storage import StorageError, build_storage
from backend.media.upload_routes import router as uploads_router
from backend.notices.routes import pages as notice_pages
from backend.organisation.evaluation_routes import api as evaluation_api
from backend.organisation.evaluation_routes import pages as evaluation_pages
from backend.organisation.mentoring_routes import api as mentoring_api
from backend.organisation.mentoring_routes import pages as mentoring_pages
from backend.organisation.output_routes import api as output_api
from backend.organisation.output_routes import pages as output_pages
from backend.organisation.pool_routes import api as pool_api
from backend.organisation.pool_routes import pages as pool_pages
from backend.organisation.routes import api as organisation_api
from backend.organisation.routes import pages as organisation_pages
from backend.organisation.workshop_routes import api as workshop_api
from backend.organisation.workshop_routes import pages as workshop_pages
from backend.people import directory as people_directory
from backend.people.integration import api as people_integration_api
from backend.people.routes import api as people_api
from backend.people.routes import pages as people_pages
from backend.policies.taxonomy import CREDIT_CATEGORIES, TIER_BY_CODE, TIERS, TOPIC_BY_CODE, TOPICS
from backend.quizzes.assignment_routes import pages as assignment_pages
from backend.quizzes.grading_routes import pages as grading_pages
from backend.quizzes.routes import api as quizzes_api
from backend.quizzes.routes import pages as quizzes_pages
from backend.quizzes.studio_routes import pages as assessment_studio_pages
from backend.training.routes import pages as training_pages

log = logging.getLogger("portal")
# Every router, in the order its routes are matched, with its prefix (the JSON API's under /api/v1).
ROUTERS: tuple[tuple[APIRouter, str], ...] = (
    (accounts_pages, ""),
    (catalogue_pages, ""),
    (learning_pages, ""),
    (quizzes_pages, ""),
    (lesson_files_router, ""),
    (health_router, ""),
    (evidence_pages, ""),
    (title_review_pages, ""),
    (credits_pages, ""),
    (policy_pages, ""),
    (assignment_pages, ""),
    (grading_pages, ""),
    (assessment_studio_pages, ""),
    (studio_router, ""),
    (uploads_router, ""),
    (training_pages, ""),
    (sso_pages, ""),
    (token_pages, ""),
    (people_integration_api, "/api/v1"),
    (credits_integration_api, "/api/v1"),
    (security_pages, ""),
    (audit_pages, ""),
    (people_pages, ""),
    (people_api, "/api/v1"),
    (certificate_pages, ""),
    (organisation_pages, ""),
    (workshop_pages, ""),
    (organisation_api, "/api/v1"),
    (workshop_api, "/api/v1"),
    (output_pages, ""),
    (output_api, "/api/v1"),
    (evaluation_pages, ""),
    (evaluation_api, "/api/v1"),
    (mentoring_pages, ""),
    (mentoring_api, "/api/v1"),
    (notice_pages, ""),
    (dashboard_pages, ""),
    (pool_pages, ""),
    (pool_api, "/api/v1"),
    (accounts_api, "/api/v1"),
    (catalogue_api, "/api/v1"),
    (learning_api, "/api/v1"),
    (quizzes_api, "/api/v1"),
)
# Requests answered in front of the router (they leave no route in the scope), by their route templates.
FAST_ROUTES = (
    (HEARTBEAT_PATH, "/api/v1/playbacks/{playback_id}/heartbeats"),
    (re.compile(r"^/login$"), "/login"),
    (re.compile(r"^/api/v1/auth/(login|token)$"), "/api/v1/auth/{login_or_token}"),
)

# The course taxonomy every page may show (tier and topic names, credit categories).
add_template_globals(
    tiers=TIERS,
    topics=TOPICS,
    tier_by_code=TIER_BY_CODE,
    topic_by_code=TOPIC_BY_CODE,
    categories={c.code: c for c in CREDIT_CATEGORIES},
)
# Single sign-on links accounts to teacher records through people's directory (accounts sits below people).
oidc.use_directory(people_directory)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _error_response(request: Request, status: int, code: str, message: str, fields: dict[str, str]) -> Response:
    locale = getattr(request.state, "locale", app_state(request).settings.default_locale)
    text = translate(locale, message)
    field_text = {k: translate(locale, v) for k, v in fields.items()}
    if _wants_json(request):
        return JSONResponse(error_body(code, text, field_text), status_code=status)
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
        body = validation_body(exc.errors(), skip=1)  # the location's first part is "body", "query", …
        if _wants_json(request):
            return JSONResponse(body, status_code=422)
        return _error_response(request, 422, "invalid_input", f"The request was not valid: {body['detail']}", {})

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


class Portal(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        """The security headers wrap the whole stack, Starlette's server-error middleware included, so that a 500
        carries them too (backend/kit/security_headers.py)."""
        return security_headers.for_settings(super().build_middleware_stack(), state_of(self).settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sign-ins give way to heartbeats: the writer counts them on the hashing pool's meter.
        state = state_of(app)
        writer = HeartbeatWriter(state.settings.database_url, meter=hashing.pool.meter)
        state.heartbeats = writer
        await writer.start()
        try:
            yield
        finally:
            await writer.stop()
            metrics.process_exited(os.getpid())  # this worker's live gauges stop counting

    app = Portal(
        title="松江区班主任网络研修平台",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf), Depends(ids_in_range)],  # ids_in_range: 404, not a 500
        docs_url="/api/docs",
        redoc_url=None,
        responses=ERROR_RESPONSES,  # the error body the handlers below really send (backend/kit/error_schema.py)
    )
    from backend.accounts.deps import bearer_is_valid

    # The one typed state of the application (backend/kit/state.py); requests read it through dependencies.
    state = AppState(
        settings=settings,
        sessionmaker=session_factory(settings),
        storage=build_storage(settings),
        bearer_is_valid=bearer_is_valid,  # the CSRF check asks the one credential check (kit/csrf.py)
    )
    app.state.portal = state

    app.add_middleware(LocaleAndCookies, default_locale=settings.default_locale, cookie_secure=settings.cookie_secure)
    app.add_middleware(BodyLimit)  # every body, counted as it streams in (backend/kit/body_limit.py)
    # Issue 6 and 14: CSP and friends on every response, the lane's and the gate's included (fixed_headers).
    state.answer_headers = security_headers.for_settings(app, settings).fixed_headers()
    _install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(PROJECT_ROOT / "web" / "static")), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # Browsers ask for /favicon.ico whatever the page links; the icon is an SVG (no binary files in git).
        return FileResponse(PROJECT_ROOT / "web" / "static" / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "public, max-age=86400"})  # fmt: skip

    for router, prefix in ROUTERS:
        app.include_router(router, prefix=prefix)
    # Added last, so they run first: the busiest request, and sign-ins refused in a storm, skip the framework.
    from backend.accounts.login_gate import LoginGate

    app.add_middleware(LoginGate, default_locale=settings.default_locale)
    app.add_middleware(HeartbeatLane)
    # Outermost: every request, the two above included, gets a request id, a log line and its metrics.
    app.add_middleware(Telemetry, fast_routes=FAST_ROUTES, log_heartbeats=settings.log_heartbeats)
    return app
