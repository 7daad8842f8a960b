"""Users, their browser sessions and API tokens. Sessions live in the database so any replica can serve any user."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class Role(StrEnum):
    teacher = "teacher"
    trainer = "trainer"
    school_admin = "school_admin"
    district_admin = "district_admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.teacher)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Set by an admin's password reset: the next login must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_changed_at: Mapped[datetime | None]
    # TOTP (RFC 6238) two-factor sign-in: the shared secret, set at enrolment and active once confirmed.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    # The last time step a code was accepted for: the same code cannot be used twice (ASVS 2.8.4).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class AuthSession(Base):
    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash of the cookie value is stored: a database leak does not hand out live sessions.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    # The absolute timeout: a session ends this long after login however active it is (policy).
    expires_at: Mapped[datetime]
    # The idle timeout is measured from here; refreshed at most once a minute so the hot path stays cheap.
    last_seen_at: Mapped[datetime | None]
    # "password" or "sso": two-factor sign-in is required of admins only for password logins.
    auth_method: Mapped[str] = mapped_column(String(16), default="password", server_default="password")
    # "active" is a signed-in session; "mfa", "enrol" and "password" are a login half-way: the password was
    # right but a second factor, a TOTP enrolment or a forced password change must come first. Only "active"
    # sessions authenticate a request.
    stage: Mapped[str] = mapped_column(String(16), default="active", server_default="active")


class RecoveryCode(Base):
    """One-time codes for when the authenticator is lost; only a hash is stored (ASVS 2.6.2)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(80))  # "salt$sha256"
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins per account name and per client address, in the database so every replica sees them."""

    __tablename__ = "login_throttles"

    # "account:<username>" or "address:<ip>"; unknown usernames are counted too, so a lockout reveals nothing.
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Integration tokens (district HR systems) carry scopes, space-separated ("records:read credits:export"), and
    # may call only the endpoints that require one of them. NULL: a personal token from /api/v1/auth/token.
    scopes: Mapped[str | None] = mapped_column(String(200))
