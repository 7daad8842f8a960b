"""The application's state, typed: what `create_app` builds once and requests read.

`create_app` (backend/app.py) makes one `AppState` and keeps it on the Starlette app (`app.state.portal`); nothing
else reads or writes `app.state` by name. Routes take a dependency: `SettingsDep` and `AppStateDep` here,
`SessionFactoryDep` in backend/db.py, `StorageDep` in backend/media/storage.py (media owns `Storage`). Code outside
a route (middleware, helpers) calls `state_of(app)` or `app_state(request)`, or is handed what it needs.

The ground imports no domain, so the fields that hold a domain's object (the media storage, the heartbeat writer)
are `Any` here and typed by the accessor their owner offers (`media.storage.storage_of`,
`learning.hotpath.writer_of`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from backend.config import Settings


@dataclass
class AppState:
    settings: Settings
    sessionmaker: sessionmaker[Session]
    # media's `Storage` (backend/media/storage.py), typed by `media.storage.storage_of` and `StorageDep`.
    storage: Any
    # The security headers every answer carries, also those written in front of the framework (kit/asgi.py).
    answer_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    # The accounts package's credential check of a bearer token, for the CSRF check (kit/csrf.py).
    bearer_is_valid: Callable[[Request], bool] | None = None
    # learning's `HeartbeatWriter`, started by the lifespan; typed by `learning.hotpath.writer_of`.
    heartbeats: Any = None


def state_of(app: Any) -> AppState:
    """The state `create_app` gave this application (a FastAPI app, or the ASGI scope's "app")."""
    state: AppState = app.state.portal
    return state


def app_state(request: HTTPConnection) -> AppState:
    return state_of(request.app)


def request_settings(request: HTTPConnection) -> Settings:
    return state_of(request.app).settings


AppStateDep = Annotated[AppState, Depends(app_state)]
SettingsDep = Annotated[Settings, Depends(request_settings)]
