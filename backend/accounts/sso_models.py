"""Single sign-on tables: who a provider's subject is in the portal, and logins on their way through the provider.

A login in flight lives in the database, not in process memory, so the callback may reach any replica.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class UserIdentity(Base):
    """A provider's subject (`iss` + `sub`) linked to a portal account at its first SSO login."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class SsoLoginAttempt(Base):
    """One authorization request sent to the provider; used once by its callback, then deleted.

    `state_hash` finds it, `browser_hash` ties it to the browser that started it (a cookie), so a callback URL
    handed to someone else logs nobody in. The nonce and PKCE verifier never leave the server.
    """

    __tablename__ = "sso_login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    next_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
