"""API tokens for integrations (district HR systems): created by district admins, scoped, hashed at rest, expiring,
revocable, listed with their last use.

An integration token is an `ApiToken` with `scopes` set. It never acts as the admin who created it: it opens only
the endpoints that declare one of its scopes with the dependency `require_scope("…")`, and stops working when it
expires, is revoked, or its creator is no longer an active district admin. The token's value is shown once, at
creation; only its SHA-256 is stored. Every use is written to the audit log ("token.use"), and so is every refused
one ("token.refused"), never with the token's value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts import credentials
from backend.accounts.credentials import digest_token
from backend.accounts.models import ApiToken, User
from backend.audit import describe as audit_describe
from backend.audit import service as audit
from backend.db import SessionDep
from backend.kit import clock
from backend.kit.errors import AppError, Forbidden, InvalidInput, NotAuthenticated, NotFound
from backend.kit.i18n import _
from backend.policies.service import load_policy

# What an integration may be allowed to do; each is read-only.
SCOPES: dict[str, str] = {
    "records:read": _("Read teacher records (staff number, school, tier, status)"),
    "credits:export": _("Export certified credit hours per teacher and year"),
}
STATE_LABELS = {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked")}
LIFETIME_DAYS = (30, 90, 180, 365)
DEFAULT_LIFETIME_DAYS = 90
# Integration tokens are recognisable in a leaked config file or by a secret scanner.
TOKEN_PREFIX = "sji_"  # noqa: S105  # nosec B105 - a prefix, not a secret


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    value: str  # shown once, never stored


def create_integration_token(
    session: Session, actor: User, *, name: str, scopes: Sequence[str], days: int, address: str | None = None
) -> IssuedToken:
    name = name.strip()
    chosen = sorted(set(scopes))
    errors: dict[str, str] = {}
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        errors["name"] = _("Give the token a name of 1 to 100 characters, e.g. the system that will use it.")
    if not chosen or any(s not in SCOPES for s in chosen):
        errors["scopes"] = _("Choose at least one permission.")
    if days not in LIFETIME_DAYS:
        errors["days"] = _("Choose how long the token stays valid.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        user_id=actor.id, name=name, token_hash=digest_token(value), created_at=now,
        expires_at=now + timedelta(days=days), scopes=" ".join(chosen),
    )  # fmt: skip
    session.add(token)
    session.flush()
    audit.record(
        session, "token.create", actor_id=actor.id, subject_type="api_token", subject_id=token.id,
        after={"name": name, "scopes": chosen, "expires_at": token.expires_at.isoformat()}, address=address,
    )  # fmt: skip
    return IssuedToken(token=token, value=value)


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    scopes: list[str]
    created_by: str
    created_at: object
    expires_at: object
    last_used_at: object
    revoked_at: object
    state: str  # active | expired | revoked


def list_integration_tokens(session: Session) -> list[TokenRow]:
    now = clock.now()
    rows = session.execute(
        select(ApiToken, User.display_name)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.scopes.is_not(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return [
        TokenRow(
            id=t.id,
            name=t.name,
            scopes=(t.scopes or "").split(),
            created_by=creator,
            created_at=t.created_at,
            expires_at=t.expires_at,
            last_used_at=t.last_used_at,
            revoked_at=t.revoked_at,
            state="revoked" if t.revoked_at else "expired" if t.expires_at <= now else "active",
        )  # fmt: skip
        for t, creator in rows
    ]


def revoke_integration_token(session: Session, actor: User, token_id: int, address: str | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None or token.scopes is None:
        raise NotFound(_("This token does not exist."))
    if token.revoked_at is None:  # revoking twice changes nothing and is not an error
        token.revoked_at = clock.now()
        session.flush()
        audit.record(
            session, "token.revoke", actor_id=actor.id, subject_type="api_token", subject_id=token.id,
            after={"name": token.name}, address=address,
        )  # fmt: skip
    return token


@dataclass(frozen=True)
class Integration:
    """Who is calling: the token (by id and name), never a person's session."""

    token_id: int
    name: str
    scope: str


def authorize(session: Session, value: str, scope: str, *, path: str, address: str | None) -> Integration:
    """An integration token for `scope`, by the one credential check (backend.accounts.credentials); audited."""
    digest = digest_token(value)
    verdict = credentials.verdict_for(session, credentials.Presented(True, digest), load_policy(session))
    # The token named in the audit event, refused or not (a personal token is not an integration's: unnamed).
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.scopes.is_not(None)))
    refusal: AppError | None = None
    if token is None or not isinstance(verdict, credentials.Grant) or verdict.kind != credentials.Kind.integration:
        refusal = NotAuthenticated(_("The API token is invalid, expired or revoked."))
    elif not verdict.may_scope(scope):
        refusal = Forbidden(_("This token does not carry the permission %(scope)s."), scope=scope)
    if token is not None and refusal is None:
        token.last_used_at = clock.now()
    audit.record(
        session, "token.use" if refusal is None else "token.refused",
        actor_id=token.user_id if token is not None else None,
        subject_type="api_token", subject_id=token.id if token is not None else None,
        after={"scope": scope, "path": path} | ({"reason": refusal.message} if refusal else {}), address=address,
    )  # fmt: skip
    if refusal is not None:
        raise refusal
    assert token is not None  # for the type checker: no refusal means a token
    return Integration(token_id=token.id, name=token.name, scope=scope)


# Declares the bearer scheme in the OpenAPI document; the check itself is ours (auto_error off).
BearerCredentials = Annotated[
    HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False, scheme_name="IntegrationToken"))
]


def require_scope(scope: str) -> Callable[..., Integration]:
    """Route dependency: the request must carry an integration token (`Authorization: Bearer …`) with `scope`."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def check(request: Request, session: SessionDep, credentials: BearerCredentials) -> Integration:
        if credentials is None or not credentials.credentials.strip():
            raise NotAuthenticated(_("This endpoint needs an integration token: Authorization: Bearer <token>."))
        try:
            return authorize(
                session, credentials.credentials.strip(), scope, path=request.url.path,
                address=request.client.host if request.client else None,
            )  # fmt: skip
        except AppError as exc:
            exc.keep = True  # the refusal's audit event stays, though the request fails (the session commits it)
            raise

    return check


RecordsReader = Annotated[Integration, Depends(require_scope("records:read"))]
CreditsExporter = Annotated[Integration, Depends(require_scope("credits:export"))]


def _audit_names(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    """Integration tokens as the audit log names them (issue 18)."""
    numbers = [int(i) for i in ids if i.isdigit()]
    rows = session.execute(select(ApiToken.id, ApiToken.name).where(ApiToken.id.in_(numbers))).all()
    return {str(tid): audit_describe.Subject(name, "/admin/tokens") for tid, name in rows}


audit_describe.register_subject("api_token", _audit_names)
