"""Prepares N viewers for the heartbeat bench on a fresh PostgreSQL database.

One course with one 2-hour video lesson; N teachers, each enrolled, logged in (a real `auth_sessions` row behind
a cookie token), with a CSRF cookie and its token, and one live playback session that holds the teacher's lease
with today's budgets, exactly as `backend.learning.playbacks.start_playback` leaves it.

The first few viewers go through the real services (`accounts.service.create_user` / `start_session`,
`learning.service.enroll`, `playbacks.start_playback`); the rest are bulk-inserted with the same column values
(one argon2 hash reused: hashing 30,000 passwords would take minutes), and the bulk rows are checked against the
real ones before anything is written out.

    .venv/bin/python bench/setup.py --viewers 30000 --database portal_bench --out bench/out/viewers.json
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from backend.accounts import service as accounts  # noqa: E402
from backend.accounts.models import ApiToken, AuthSession, User  # noqa: E402
from backend.accounts.passwords import hash_password  # noqa: E402
from backend.catalogue.models import Course, CourseTopic, Lesson  # noqa: E402
from backend.db import make_engine  # noqa: E402
from backend.kit import clock  # noqa: E402
from backend.kit.csrf import new_cookie_value, token_for  # noqa: E402
from backend.learning import playbacks  # noqa: E402
from backend.learning import service as learning  # noqa: E402
from backend.learning.judge import next_prompt_due  # noqa: E402
from backend.learning.models import Enrollment, LearnerState, LessonProgress, PlaybackSession  # noqa: E402
from backend.migrate import upgrade  # noqa: E402
from backend.people import schools as people  # noqa: E402
from backend.policies.service import load_policy  # noqa: E402

PASSWORD = "bench-password-1234"  # noqa: S105 - bench accounts on a throwaway database
VIDEO_MS = 2 * 3600 * 1000
REAL_VIEWERS = 3  # created through the services; the bulk rows are compared with theirs
SESSION_DAYS = 14
# Columns that differ per viewer or per moment; everything else must be identical between real and bulk rows.
PER_ROW = {
    "playback_sessions": {"id", "user_id", "progress_id", "started_at", "last_beat_at", "confirmed_at",
                          "prompt_due_at"},
    "learner_state": {"user_id", "active_playback_id"},
    "lesson_progress": {"id", "enrollment_id"},
    "enrollments": {"id", "user_id", "enrolled_at"},
    "auth_sessions": {"id", "token_hash", "user_id", "created_at", "expires_at", "last_seen_at"},
    "users": {"id", "username", "display_name", "password_hash", "created_at"},
}


def admin_dsn(url: str) -> tuple[str, str]:
    """(libpq DSN of the maintenance database, name of the bench database) for a postgresql+psycopg URL."""
    rest = url.split("://", 1)[1]
    server, name = rest.rsplit("/", 1)
    creds, hostport = server.rsplit("@", 1) if "@" in server else ("", server)
    host, _, port = hostport.partition(":")
    user = creds.split(":", 1)[0] if creds else "postgres"
    return f"host={host} port={port or 5432} user={user} dbname=postgres", name.split("?", 1)[0]


def fresh_database(url: str) -> None:
    dsn, name = admin_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(url, "heads")  # every branch head, should parallel migrations be unmerged for a while


def make_course(session: Session) -> Lesson:
    now = clock.now()
    course = Course(
        code=f"BENCH-{uuid.uuid4().hex[:6]}", version=1, title="压测课程", summary="压测", description_md="压测",
        tier="horizon", credit_hours=Decimal("2.0"), credit_category="knowledge_skills", status="published",
        created_at=now, published_at=now,
    )
    course.topics = [CourseTopic(topic="norms")]
    course.lessons = [Lesson(position=1, kind="video", title="第1讲", body_md="正文", media_key="videos/bench.mp4",
                             media_type="video/mp4", duration_ms=VIDEO_MS)]
    session.add(course)
    session.flush()
    return course.lessons[0]


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def real_viewers(session: Session, lesson: Lesson, school_id: int, count: int) -> list[dict[str, Any]]:
    """Viewers made through the services, as the app makes them."""
    policy = load_policy(session)
    course = session.get(Course, lesson.course_id)
    out = []
    for i in range(count):
        user = accounts.create_user(session, username=f"bench-real-{i}", display_name=f"压测教师{i}",
                                    password=PASSWORD, school_id=school_id)
        learning.enroll(session, user.id, course)
        started = playbacks.start_playback(session, user.id, lesson.id, policy)
        auth = accounts.start_session(session, user, SESSION_DAYS)
        out.append({"user": user, "playback": started.playback, "progress": started.progress, "cookie": auth.token})
    session.flush()
    return out


def bulk_viewers(session: Session, lesson: Lesson, school_id: int, count: int) -> list[dict[str, Any]]:
    """The same rows as `real_viewers`, inserted a thousand at a time."""
    policy = load_policy(session)
    now = clock.now()
    password_hash = hash_password(PASSWORD)
    today = playbacks.day_of(now)
    day_budget = max(0, int(policy.viewing.daily_cap_hours * 3_600_000))
    tag = uuid.uuid4().hex[:6]
    users = [
        {"username": f"bench-{tag}-{i}", "display_name": f"压测教师{i}", "password_hash": password_hash,
         "role": "teacher", "school_id": school_id, "is_active": True, "created_at": now}
        for i in range(count)
    ]
    user_ids = list(session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users))
    enrollment_ids = list(session.scalars(
        insert(Enrollment).returning(Enrollment.id, sort_by_parameter_order=True),
        [{"user_id": uid, "course_id": lesson.course_id, "enrolled_at": now, "completed_at": None}
         for uid in user_ids],
    ))
    progress_ids = list(session.scalars(
        insert(LessonProgress).returning(LessonProgress.id, sort_by_parameter_order=True),
        [{"enrollment_id": eid, "lesson_id": lesson.id, "coverage": [], "covered_ms": 0, "credited_ms": 0,
          "covered_at": None, "day": 0, "day_credited_ms": 0} for eid in enrollment_ids],
    ))
    playback_ids = [str(uuid.uuid4()) for _ in user_ids]
    session.execute(insert(PlaybackSession), [
        {"id": pid, "user_id": uid, "lesson_id": lesson.id, "progress_id": prid, "duration_ms": VIDEO_MS,
         "started_at": now, "last_seq": 0, "last_beat_at": now, "last_position_ms": 0, "last_client_ms": None,
         "bank_ms": 0, "credited_ms": 0, "pending_ms": 0, "pending_coverage": [], "known_coverage": [],
         "rejected_ms": 0, "confirmed_at": now, "prompt_state": "none", "prompt_id": None,
         "prompt_due_at": next_prompt_due(now, policy), "prompt_deadline": None, "holds_lease": True,
         "budget_day": today, "day_budget_ms": day_budget, "lesson_budget_ms": VIDEO_MS, "last_note": None,
         "ended_at": None}
        for pid, uid, prid in zip(playback_ids, user_ids, progress_ids, strict=True)
    ])
    session.execute(insert(LearnerState), [
        {"user_id": uid, "active_playback_id": pid, "day": 0, "day_credited_ms": 0, "prompt_due_in_ms": None}
        for uid, pid in zip(user_ids, playback_ids, strict=True)
    ])
    cookies = [secrets.token_urlsafe(32) for _ in user_ids]
    session.execute(insert(AuthSession), [
        {"token_hash": accounts.digest_token(tok), "user_id": uid, "created_at": now, "last_seen_at": now,
         "expires_at": now + timedelta(days=SESSION_DAYS)}
        for tok, uid in zip(cookies, user_ids, strict=True)
    ])
    return [{"user_id": uid, "username": u["username"], "playback_id": pid, "cookie": tok}
            for uid, u, pid, tok in zip(user_ids, users, playback_ids, cookies, strict=True)]


def _rows_of(session: Session, model: Any, user_id: int) -> dict[str, Any]:
    if model in (User, LearnerState):
        obj = session.get(model, user_id)
    elif model is LessonProgress:
        obj = session.scalar(select(LessonProgress).join(Enrollment, Enrollment.id == LessonProgress.enrollment_id)
                             .where(Enrollment.user_id == user_id))
    else:
        obj = session.scalar(select(model).where(model.user_id == user_id))
    assert obj is not None, f"{model.__tablename__}: no row for user {user_id}"
    return _row(obj)


def check_bulk_matches_real(session: Session, real: list[dict[str, Any]], bulk: list[dict[str, Any]]) -> None:
    """Every column that is not per-row must be equal between a real viewer's rows and a bulk viewer's rows."""
    session.expire_all()
    samples = [bulk[0], bulk[len(bulk) // 2], bulk[-1]]
    for model in (PlaybackSession, LearnerState, LessonProgress, Enrollment, AuthSession, User):
        skip = PER_ROW[model.__tablename__]
        reference = {k: v for k, v in _rows_of(session, model, real[0]["user"].id).items() if k not in skip}
        for viewer in samples:
            got = {k: v for k, v in _rows_of(session, model, viewer["user_id"]).items() if k not in skip}
            diff = {k: (reference[k], got[k]) for k in reference if reference[k] != got[k]}
            assert not diff, f"{model.__tablename__}: bulk row differs from the services' (real, bulk): {diff}"
    # The per-row values that carry meaning: the lease points at the playback, a prompt is due later.
    for viewer in samples:
        state = session.get(LearnerState, viewer["user_id"])
        assert state is not None and state.active_playback_id == viewer["playback_id"]
        playback = session.get(PlaybackSession, viewer["playback_id"])
        assert playback is not None and playback.prompt_due_at is not None
        assert playback.prompt_due_at > playback.started_at


def setup(database_url: str, viewers: int, secret_key: str, out: Path, fresh: bool = True) -> dict[str, Any]:
    """Viewers on a fresh, migrated database (or, with `fresh=False`, on an existing migrated empty one)."""
    started = time.monotonic()
    if fresh:
        fresh_database(database_url)
    engine = make_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            district = people.ensure_district(session, "bench", "压测区")
            school = people.ensure_school(session, district, "BENCH-01", "压测学校", "primary")
            lesson = make_course(session)
            real_count = min(REAL_VIEWERS, viewers)
            real = real_viewers(session, lesson, school.id, real_count)
            bulk = bulk_viewers(session, lesson, school.id, viewers - real_count)
            if real and bulk:
                check_bulk_matches_real(session, real, bulk)
            # A bearer token for the baseline endpoint (it needs none, but then both paths pay the auth header).
            api_token = accounts.create_api_token(session, real[0]["user"] if real else session.get(
                User, bulk[0]["user_id"]), "bench")
            session.commit()
            everyone = [{"user_id": v["user"].id, "username": v["user"].username, "playback_id": v["playback"].id,
                         "cookie": v["cookie"]} for v in real] + bulk
            assert session.scalar(select(ApiToken.id).limit(1)) is not None
    finally:
        engine.dispose()
    for v in everyone:
        v["csrf_cookie"] = new_cookie_value()
        v["csrf"] = token_for(secret_key, v["csrf_cookie"])
    data = {"database_url": database_url, "duration_ms": VIDEO_MS, "api_token": api_token, "viewers": everyone}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data))
    return {"viewers": len(everyone), "seconds": round(time.monotonic() - started, 1), "file": str(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=int(os.environ.get("BENCH_VIEWERS", "30000")))
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench")
    parser.add_argument("--secret-key", default=os.environ.get("SECRET_KEY", ""))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "viewers.json")
    args = parser.parse_args()
    if len(args.secret_key) < 32:
        parser.error("--secret-key (or SECRET_KEY) of at least 32 characters is needed: the server's CSRF key")
    print(json.dumps(setup(args.database_url, args.viewers, args.secret_key, args.out)))


if __name__ == "__main__":
    main()
