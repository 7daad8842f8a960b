"""Building offline sessions for the tests: through the service, as an admin would schedule them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.policies.service import load_policy
from backend.training import service
from backend.training.models import TrainingSession


def make_session(session: Session, by: User, **fields: Any) -> TrainingSession:
    """A tiered, themed half-day school-based session at the admin's school on 2 November 2026, 09:00–11:30."""
    form: dict[str, Any] = {
        "title": "班级危机干预案例研讨",
        "theme": "班级危机干预",
        "tier": "horizon",
        "level": "school",
        "category": "practice",
        "school_id": str(by.school_id or ""),
        "day": "2026-11-02",
        "start_time": "09:00",
        "end_time": "11:30",
        "place": "行政楼三楼会议室",
        "duration": "half",
        "hours": "",
    }
    form.update({k: str(v) if v is not None else "" for k, v in fields.items()})
    return service.schedule(session, by, form, load_policy(session))
