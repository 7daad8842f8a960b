"""Check-in codes: HMAC-signed, time-stepped tokens, and the proof that a phone scanned one.

A code names a session and a time step (unix seconds // `checkin_code_seconds`) and carries
HMAC-SHA256(SECRET_KEY, "checkin:<session>:<step>"), cut to 96 bits. Any replica can mint and check a code from
the shared secret and the clock alone: there is no per-process or per-code state. A code is accepted in its own
step and the next one (the projector may have just rotated while the phone was focusing) and refused after that,
so a photo of the screen sent to an absent colleague stops working within a minute.

Scanning a valid code sets a short-lived signed cookie, the scan proof, and the phone then confirms the check-in
(after logging in, if it must). The proof lets a teacher who had to log in first confirm after the code rotated.

Pure functions of (secret, now): the routes pass `settings.secret_key` and `clock.now()`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import segno

from backend.kit.errors import Conflict, Forbidden
from backend.kit.i18n import _

SCAN_COOKIE = "portal_checkin"
# However the policy is set, a step is never shorter than this (and never zero).
MIN_STEP_SECONDS = 5
_MAC_BYTES = 12


def _mac(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def step_at(moment: datetime, step_seconds: int) -> int:
    return int(moment.timestamp()) // max(step_seconds, MIN_STEP_SECONDS)


def seconds_to_next_step(moment: datetime, step_seconds: int) -> int:
    step_seconds = max(step_seconds, MIN_STEP_SECONDS)
    return step_seconds - int(moment.timestamp()) % step_seconds


def code_for(secret: str, session_id: int, step: int) -> str:
    return f"{session_id}-{step}-{_mac(secret, f'checkin:{session_id}:{step}')}"


@dataclass(frozen=True)
class ScannedCode:
    session_id: int
    step: int


FORGED = _("This check-in code is not valid. Scan the code shown on the screen at the session.")
EXPIRED = _("This check-in code has expired. Scan the code on the screen again: it changes every few seconds.")


def verify_code(secret: str, code: str, now: datetime, step_seconds: int) -> ScannedCode:
    """The session and step of a genuine, fresh code; Forbidden for a forged one, Conflict for an old one."""
    parts = code.split("-", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise Forbidden(FORGED)
    session_id, step, mac = int(parts[0]), int(parts[1]), parts[2]
    if not hmac.compare_digest(mac, _mac(secret, f"checkin:{session_id}:{step}")):
        raise Forbidden(FORGED)
    current = step_at(now, step_seconds)
    # One step ahead is tolerated for clock drift between replicas; only the key holder can mint it anyway.
    if step > current + 1:
        raise Forbidden(FORGED)
    if step < current - 1:
        raise Conflict(EXPIRED)
    return ScannedCode(session_id, step)


def scan_proof(secret: str, session_id: int, now: datetime) -> str:
    at = int(now.timestamp())
    return f"{session_id}.{at}.{_mac(secret, f'scan:{session_id}:{at}')}"


def scan_is_fresh(secret: str, proof: str | None, session_id: int, now: datetime, max_seconds: int) -> bool:
    """Whether this browser scanned a valid code of this session within the last `max_seconds`."""
    if not proof:
        return False
    parts = proof.split(".")
    if len(parts) != 3 or parts[0] != str(session_id) or not parts[1].isdigit():
        return False
    if not hmac.compare_digest(parts[2], _mac(secret, f"scan:{session_id}:{parts[1]}")):
        return False
    age = int(now.timestamp()) - int(parts[1])
    return 0 <= age <= max_seconds


def qr_svg(url: str, label: str) -> str:
    """The code as inline SVG that scales to its box (segno: pure Python, no image library needed)."""
    return str(segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True, title=label, svgclass="qr"))
