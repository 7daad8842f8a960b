"""ASGI entry point: `uvicorn backend.main:app`."""

from backend.accounts import hashing
from backend.accounts.login_gate import LoginGate
from backend.app import FAST_ROUTES, create_app
from backend.kit.state import state_of
from backend.kit.telemetry import Telemetry
from backend.learning.heartbeat_lane import HeartbeatLane

portal = create_app()
settings = state_of(portal).settings
# The busiest request, and sign-ins refused in a storm, skip even Starlette's outer wrappers (see the modules);
# Telemetry, in front of them, still counts and logs them.
app = Telemetry(
    HeartbeatLane(LoginGate(portal, settings.default_locale), fastapi_app=portal),
    fast_routes=FAST_ROUTES,
    log_heartbeats=settings.log_heartbeats,
)
hashing.pool.start()
