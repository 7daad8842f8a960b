"""ASGI entry point: `uvicorn backend.main:app`."""

from backend.app import create_app
from backend.learning.heartbeat_lane import HeartbeatLane

portal = create_app()
# The busiest request skips even Starlette's outer wrappers (see backend/learning/heartbeat_lane.py).
app = HeartbeatLane(portal, fastapi_app=portal)
