"""The one credential check: a session cookie or a bearer token → the user, and what the credential may do; or a
refusal. Every path that authenticates goes through `decide` — the page and API stack (`resolve`, called by
`backend.accounts.deps` and by the CSRF check), the integration endpoints (`backend.accounts.tokens`) and the
heartbeat writer (`check_batch`, one query per kind for a whole batch) — so the rules cannot drift apart again.

Three kinds of credential:

    session       the `portal_session` cookie; only a sign-in that is complete ("active") opens anything
    personal      an `sjp_…` bearer token from POST /api/v1/auth/token: /api/v1 (and heartbeats) only
    integration   an `sji_…` bearer token with scopes: only the endpoints of its scopes, and only while its
                  creator is an active district admin

What is checked, for each: the row exists and is not revoked; the user is active; the absolute limit (a session's
or personal token's lifetime is the policy's `session_absolute_hours`, however active it is) and the idle limit
(`session_idle_minutes` without a request) — integration tokens have their own lifetime and no idle limit; the
kind and scopes against what is asked (`Purpose`). Events that must end a person's credentials (log out
everywhere, a password change or reset, a role change, turning on two-factor sign-in) call `end_all`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session

from backend.accounts.models import ApiToken, AuthSession, Role, User
from backend.db import where_key_in
from backend.kit import clock
from backend.kit.errors import AppError, Forbidden, NotAuthenticated
from backend.kit.i18n import _
from backend.policies.service import Policy

# Last use is written at most this often, so an active user costs one UPDATE a minute, not one per request.
TOUCH_SECONDS = 60
API_PREFIX = "/api/v1/"


def digest_token(token: str) -> str:
    """Only this hash of a cookie or token is stored: a database leak does not hand out live credentials."""
    return hashlib.sha256(token.encode()).hexdigest()


class Kind(StrEnum):
    session = "session"
    personal = "personal"
    integration = "integration"


class Purpose(StrEnum):
    """What the request wants to do with the credential."""

    page = "page"  # an HTML page or form: the cookie only
    api = "api"  # the JSON API under /api/v1: the cookie or a personal token
    heartbeat = "heartbeat"  # the heartbeat lane: the same as the API


@dataclass(frozen=True)
class Presented:
    """A credential as it arrived: from the cookie or the Authorization header, kept only as its SHA-256."""

    bearer: bool
    digest: str

    @classmethod
    def of(cls, authorization: str | None, cookie: str | None) -> Presented | None:
        """The bearer token when the request carries one (then the cookie is never used), else the cookie."""
        auth = authorization or ""
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
            return cls(True, digest_token(token)) if token else cls(True, "")
        return cls(False, digest_token(cookie)) if cookie else None


@dataclass(frozen=True)
class Grant:
    """An accepted credential: whose it is and what it may do."""

    user_id: int
    kind: Kind
    credential_id: int
    scopes: frozenset[str]
    touch: bool  # its last use is older than TOUCH_SECONDS: write it now

    def may(self, purpose: Purpose) -> bool:
        if self.kind == Kind.session:
            return True
        if self.kind == Kind.personal:
            return purpose in (Purpose.api, Purpose.heartbeat)
        return False  # an integration token opens only the endpoints of its scopes (`may_scope`)

    def may_scope(self, scope: str) -> bool:
        return self.kind == Kind.integration and scope in self.scopes


@dataclass(frozen=True)
class Refusal:
    reason: str  # missing | unknown | revoked | expired | idle | inactive | incomplete | creator | kind | scope


# The rows the check reads. The same statements serve the ORM session and the heartbeat writer's async connection.
SESSION_ROWS = (
    select(
        AuthSession.token_hash, AuthSession.id.label("credential_id"), AuthSession.user_id,
        AuthSession.stage, AuthSession.created_at, AuthSession.expires_at,
        AuthSession.last_seen_at.label("last_used_at"), User.is_active, User.role,
    ).join(User, User.id == AuthSession.user_id)
)  # fmt: skip
TOKEN_ROWS = (
    select(
        ApiToken.token_hash, ApiToken.id.label("credential_id"), ApiToken.user_id, ApiToken.scopes,
        ApiToken.created_at, ApiToken.expires_at, ApiToken.last_used_at, ApiToken.revoked_at,
        User.is_active, User.role,
    ).join(User, User.id == ApiToken.user_id)
)  # fmt: skip


def decide(row: Mapping[Any, Any] | None, *, bearer: bool, now: datetime, policy: Policy) -> Grant | Refusal:
    """The rule itself, pure: a row of SESSION_ROWS (cookie) or TOKEN_ROWS (bearer) → a grant or a refusal."""
    if row is None:
        return Refusal("unknown")
    if not row["is_active"]:
        return Refusal("inactive")
    absolute = timedelta(hours=policy.security.session_absolute_hours)
    idle = timedelta(minutes=policy.security.session_idle_minutes)
    seen = row["last_used_at"] or row["created_at"]
    if bearer:
        if row["revoked_at"] is not None:
            return Refusal("revoked")
        if row["expires_at"] <= now:
            return Refusal("expired")
        if row["scopes"] is not None:
            # A token is only as good as the authority of whoever made it.
            if row["role"] != Role.district_admin:
                return Refusal("creator")
            return Grant(row["user_id"], Kind.integration, row["credential_id"],
                         frozenset(row["scopes"].split()), touch=True)  # fmt: skip
        kind = Kind.personal
    else:
        if row["stage"] != "active":
            return Refusal("incomplete")  # half-way through a second factor, an enrolment or a forced change
        if row["expires_at"] <= now:
            return Refusal("expired")
        kind = Kind.session
    if row["created_at"] + absolute <= now:
        return Refusal("expired")
    if seen <= now - idle:
        return Refusal("idle")
    return Grant(row["user_id"], kind, row["credential_id"], frozenset(),
                 touch=(now - seen).total_seconds() >= TOUCH_SECONDS)  # fmt: skip


def for_purpose(verdict: Grant | Refusal, purpose: Purpose) -> Grant | Refusal:
    if isinstance(verdict, Grant) and not verdict.may(purpose):
        return Refusal("kind")
    return verdict


def purpose_of(path: str) -> Purpose:
    return Purpose.api if path.startswith(API_PREFIX) else Purpose.page


# --- the page and API stack ------------------------------------------------------------------------------------


def _touch(session: Session, grant: Grant, now: datetime) -> None:
    """Best effort: a busy database must not fail the request over a timestamp."""
    model = AuthSession if grant.kind == Kind.session else ApiToken
    column = AuthSession.last_seen_at if grant.kind == Kind.session else ApiToken.last_used_at
    try:
        with session.begin_nested():
            session.execute(update(model).where(model.id == grant.credential_id).values({column: now}))
    except OperationalError:
        pass


def verdict_for(session: Session, presented: Presented, policy: Policy) -> Grant | Refusal:
    """The credential's verdict, whatever the purpose (the caller applies `for_purpose` or `may_scope`)."""
    if not presented.digest:
        return Refusal("missing")
    query = TOKEN_ROWS if presented.bearer else SESSION_ROWS
    key = ApiToken.token_hash if presented.bearer else AuthSession.token_hash
    row = session.execute(query.where(key == presented.digest)).mappings().first()
    return decide(row, bearer=presented.bearer, now=clock.now(), policy=policy)


def resolve(session: Session, presented: Presented | None, purpose: Purpose, policy: Policy) -> User | None:
    """The user behind the request's credential, for `purpose`. None when there is no (valid) cookie; a bearer
    token that is refused raises (401, or 403 for a token of the wrong kind), so a script sees why."""
    if presented is None:
        return None
    verdict = for_purpose(verdict_for(session, presented, policy), purpose)
    if isinstance(verdict, Refusal):
        if presented.bearer:
            raise refusal_error(verdict, purpose)
        return None
    if verdict.touch:
        _touch(session, verdict, clock.now())
    return session.get(User, verdict.user_id)


def refusal_error(refusal: Refusal, purpose: Purpose) -> AppError:
    if refusal.reason == "kind" and purpose == Purpose.page:
        return NotAuthenticated(_("API tokens work only on the API under /api/v1; pages need a sign-in."))
    if refusal.reason == "kind":
        return Forbidden(_("This integration token may only call the endpoints of its scopes."))
    return NotAuthenticated(_("The API token is invalid, expired or revoked."))


# --- the heartbeat writer: a whole batch at once ------------------------------------------------------------------


async def check_batch(
    conn: AsyncConnection, presented: Iterable[Presented], purpose: Purpose, policy: Policy, *, sqlite: bool
) -> dict[Presented, int]:
    """`resolve` for a batch, inside the caller's transaction: the user id of each accepted credential (refused
    ones are absent). One SELECT per kind present, and one UPDATE per kind for last uses older than a minute."""
    now = clock.now()
    wanted = {p for p in presented if p.digest}
    found: dict[Presented, int] = {}
    for bearer, query, model, key, column in (
        (False, SESSION_ROWS, AuthSession, AuthSession.token_hash, "last_seen_at"),
        (True, TOKEN_ROWS, ApiToken, ApiToken.token_hash, "last_used_at"),
    ):
        digests = {p.digest for p in wanted if p.bearer == bearer}
        if not digests:
            continue
        stmt, params = where_key_in(query, key, digests, sqlite)
        stale: set[str] = set()
        for row in (await conn.execute(stmt, params)).mappings():
            verdict = for_purpose(decide(row, bearer=bearer, now=now, policy=policy), purpose)
            if isinstance(verdict, Grant):
                found[Presented(bearer, row["token_hash"])] = verdict.user_id
                if verdict.touch:
                    stale.add(row["token_hash"])
        if stale:
            stmt, params = where_key_in(update(model).values({column: now}), key, stale, sqlite)
            await conn.execute(stmt, params)
    return found


# --- ending credentials -------------------------------------------------------------------------------------------


def end_all(session: Session, user_id: int, *, sessions: bool = True) -> int:
    """Every browser session (unless `sessions=False`) and every personal API token of the user end now.
    Integration tokens are the district's, not the person's: revoked one by one on their page. Returns how many
    sessions ended."""
    now = clock.now()
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.scopes.is_(None), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if not sessions:
        return 0
    result = session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
