"""The server's clock. Every credited second is measured with it, never with the client's."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)


def local_year(moment: datetime) -> int:
    """The year a moment belongs to in Shanghai, which is the year its hours count for."""
    return moment.astimezone(SHANGHAI).year
