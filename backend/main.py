"""ASGI entry point: `uvicorn backend.main:app`."""

from backend.accounts import hashing
from backend.accounts.login_gate import LoginGate
from backend.app import create_app
from backend.learning.heartbeat_lane import HeartbeatLane

portal = create_app()
# The busiest request, and sign-ins refused in a storm, skip even Starlette's outer wrappers (see the modules).
app = HeartbeatLane(LoginGate(portal, portal.state.settings.default_locale), fastapi_app=portal)
hashing.pool.start()
