"""Accounts: creating users, logging in and out, resolving a session cookie or bearer token to a user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.accounts.models import ApiToken, AuthSession, Role, User
from backend.accounts.passwords import hash_password, verify_password
from backend.kit import clock
from backend.kit.errors import Conflict, InvalidInput, NotAuthenticated
from backend.kit.i18n import _

MIN_PASSWORD_LENGTH = 8


def digest_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role | str = Role.teacher,
    school_id: int | None = None,
) -> User:
    username = username.strip()
    errors: dict[str, str] = {}
    if not username or len(username) > 64:
        errors["username"] = _("Enter a username of 1 to 64 characters.")
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("The password must have at least 8 characters.")
    if role not in set(Role):
        errors["role"] = _("Unknown role.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_("A user with this username already exists."))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=str(role),
        school_id=school_id,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    """The user for these credentials. One message for every failure, so it reveals no account's existence."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    ok = verify_password(user.password_hash if user else None, password)
    if not user or not ok or not user.is_active:
        raise NotAuthenticated(_("Username or password is incorrect."))
    return user


@dataclass(frozen=True)
class NewSession:
    token: str
    max_age_seconds: int


def start_session(session: Session, user: User, days: int) -> NewSession:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        AuthSession(
            token_hash=digest_token(token), user_id=user.id, created_at=now, expires_at=now + timedelta(days=days)
        )
    )
    session.flush()
    return NewSession(token=token, max_age_seconds=days * 86400)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(AuthSession).where(AuthSession.token_hash == digest_token(token)))


def user_for_session_token(session: Session, token: str) -> User | None:
    row = session.execute(
        select(User, AuthSession.expires_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.token_hash == digest_token(token))
    ).first()
    if row is None or row[1] <= clock.now() or not row[0].is_active:
        return None
    return row[0]


def create_api_token(session: Session, user: User, name: str, days: int = 90) -> str:
    token = "sjp_" + secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        ApiToken(
            user_id=user.id,
            name=name,
            token_hash=digest_token(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    )
    session.flush()
    return token


def user_for_api_token(session: Session, token: str) -> User | None:
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest_token(token))
    ).first()
    if row is None:
        return None
    user, api_token = row
    if api_token.revoked_at or api_token.expires_at <= clock.now() or not user.is_active:
        return None
    api_token.last_used_at = clock.now()
    return user
