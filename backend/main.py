"""ASGI entry point: `uvicorn backend.main:app`."""

from backend.accounts import hashing
from backend.accounts.login_gate import LoginGate
from backend.app import FAST_ROUTES, create_app
from backend.kit.telemetry import Telemetry
from backend.learning.heartbeat_lane import HeartbeatLane

portal = create_app()
# The busiest request, and sign-ins refused in a storm, skip even Starlette's outer wrappers (see the modules);
# Telemetry, in front of them, still counts and logs them.
app = Telemetry(
    HeartbeatLane(LoginGate(portal, portal.state.settings.default_locale), fastapi_app=portal),
    fast_routes=FAST_ROUTES, log_heartbeats=portal.state.settings.log_heartbeats,
)
hashing.pool.start()
