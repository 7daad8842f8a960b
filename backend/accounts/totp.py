"""Two-factor sign-in: TOTP (RFC 6238, 30 s steps, 6 digits) and ten one-time recovery codes.

The TOTP secret must be readable to check codes, so it is stored as is. Recovery codes (random, 50 bits each,
tried under the login throttle) are stored only as SHA-256 hashes with a random 32-bit salt each (ASVS 2.6.2:
below 112 bits of entropy a lookup secret is salted and hashed). A code is accepted for the
current step or one step either side (clock drift), and never twice (`totp_last_step`, ASVS 2.8.4).
"""

from __future__ import annotations

import hashlib
import secrets

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.accounts.models import RecoveryCode, User
from backend.kit import clock

ISSUER = "Songjiang Portal"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt


def _normal(code: str) -> str:
    return code.replace("-", "").replace(" ", "").strip().lower()


def _digest(code: str, salt: str | None = None) -> str:
    """The stored form: 8 hex digits of salt, "$", then SHA-256(salt + code) in hex (73 characters)."""
    salt = salt or secrets.token_hex(4)
    return f"{salt}${hashlib.sha256((salt + _normal(code)).encode()).hexdigest()}"


def pending_secret(user: User) -> str:
    """The secret being enrolled: kept on the user (not yet enabled) so a reload shows the same QR code."""
    if user.totp_enabled_at is None and not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
    assert user.totp_secret is not None
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as an inline SVG QR code (no script, no data: URL: fits the strict CSP)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#1f2933", light="#ffffff")
    return Markup(svg)  # noqa: S704 - segno's own SVG markup of a URI we built, no user HTML  # nosec B704


def check_code(user: User, code: str) -> bool:
    """True for a valid, not yet used code of the user's secret; remembers its step so it cannot be replayed."""
    code = code.strip().replace(" ", "")
    if not user.totp_secret or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = clock.now()
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if user.totp_last_step is not None and candidate <= user.totp_last_step:
            continue
        if secrets.compare_digest(totp.at(candidate * totp.interval), code):
            user.totp_last_step = candidate
            return True
    return False


def current_code(secret: str) -> str:
    """The code an authenticator shows now (tests and the demo-mode hint)."""
    return pyotp.TOTP(secret).at(int(clock.now().timestamp()))


def new_recovery_codes(session: Session, user: User) -> list[str]:
    """Replaces the user's recovery codes with ten fresh ones, returned once in plain text to be written down."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    unused = session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    for row in unused:  # at most ten: each has its own salt
        salt = row.code_hash.split("$", 1)[0]
        if secrets.compare_digest(row.code_hash, _digest(code, salt)):
            row.used_at = clock.now()
            session.flush()
            return True
    return False


def recovery_codes_left(session: Session, user: User) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def disable(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()
