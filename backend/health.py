"""Liveness and readiness for load balancers and orchestrators, and the Prometheus metrics for the operator."""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from backend.config import Settings
from backend.db import SessionFactoryDep
from backend.kit import metrics
from backend.kit.errors import Forbidden
from backend.kit.i18n import _
from backend.kit.state import SettingsDep
from backend.media.storage import StorageDep, StorageError

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(maker: SessionFactoryDep, storage: StorageDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        with maker() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        storage.check()
        checks["storage"] = "ok"
    except StorageError as exc:
        checks["storage"] = f"error: {exc}"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@lru_cache
def _networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """The operator's network (`METRICS_ALLOW_NETWORKS`, by the client address uvicorn reports, i.e. after
    `FORWARDED_ALLOW_IPS`), or the bearer token `METRICS_TOKEN` from anywhere."""
    authorization = request.headers.get("authorization", "")
    if settings.metrics_token and authorization.lower().startswith("bearer "):
        return hmac.compare_digest(authorization[7:].strip().encode(), settings.metrics_token.encode())
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in _networks(settings.metrics_allow_networks))


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics(request: Request, settings: SettingsDep) -> Response:
    if not metrics_allowed(request, settings):
        raise Forbidden(_("Metrics are for the operator's network only."))
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)
