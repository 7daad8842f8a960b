"""District-size demo data (`portal demo load --size district`): 15,000 teachers × 5 years, for speed work and for
a title-review export that looks like the real one.

Generated with a fixed seed, so two loads give the same district: 150 schools (the 3 demo schools and 147 more),
100 teachers each, with a teaching start date, homeroom service periods (trainee year, appointments, gaps, moves
between schools with overlapping periods, deputy and rotating stints), five years of annual evaluations, and
certified / verified / pending / rejected ledger entries for the last five years.

Rows go in with bulk `INSERT … VALUES` batches (SQLAlchemy's insertmanyvalues), not one ORM object at a time: the
whole district loads in about a minute on PostgreSQL. Loading twice adds nothing (the first generated teacher is the
marker). Teachers get no password (they would sign in through the district's SSO); the demo accounts remain the
way in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from backend.accounts.models import Role, User
from backend.credits import chain
from backend.credits.hours import CATEGORIES, LEVELS
from backend.credits.models import LedgerEntry
from backend.kit import clock
from backend.people import schools as people
from backend.people.models import AnnualEvaluation, District, School, ServicePeriod, TeacherProfile

SEED = 20261129
BATCH = 5000
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"
)
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉萍红燕鹏辉建国文斌宇浩凯倩晶雪琳颖婷慧佳欣悦晨曦瑶"
STAGES = ("primary", "middle", "high", "nine_year")
STAGE_NAMES = {"primary": "小学", "middle": "中学", "high": "高级中学", "nine_year": "九年一贯制学校"}
TOWNS = (
    "岳阳",
    "永丰",
    "方松",
    "中山",
    "广富林",
    "九亭",
    "泗泾",
    "洞泾",
    "佘山",
    "车墩",
    "新桥",
    "叶榭",
    "小昆山",
    "石湖荡",
    "新浜",
    "泖港",
)


@dataclass(frozen=True)
class DistrictSummary:
    schools: int
    teachers: int
    periods: int
    evaluations: int
    entries: int
    skipped: bool = False


def _batched(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _bulk(session: Session, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for batch in _batched(rows):
        if table.name in chain.HASHED_COLUMNS:  # chained rows get their ids and hashes as the ORM's do
            chain.stamp(session.connection(), table.name, batch)
        session.execute(insert(table), batch)
        count += len(batch)
    return count


def _school_name(n: int, stage: str) -> str:
    town = TOWNS[n % len(TOWNS)]
    return f"松江区{town}第{n}{STAGE_NAMES[stage]}"


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _september(year: int, rng: random.Random) -> date:
    """Most appointments start on 1 September; some on another day of the school year."""
    if rng.random() < 0.8:
        return date(year, 9, 1)
    return date(year, 9, 1) + timedelta(days=rng.randrange(0, 300))


def _periods(rng: random.Random, start: date, home: int, schools: list[int], today: date) -> list[tuple]:
    """A career of service periods: (kind, school_id, start, end)."""
    result: list[tuple] = []
    if start >= today:
        return result
    cursor = start
    school = home
    if rng.random() < 0.6:  # a trainee year first
        end = min(cursor + timedelta(days=364), today - timedelta(days=1))
        result.append(("trainee", school, cursor, end))
        cursor = end + timedelta(days=1)
    while cursor < today:
        kind = rng.choices(("homeroom", "deputy", "rotating"), (0.8, 0.12, 0.08))[0]
        years = rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 15))
        end = _september(cursor.year + years, rng) - timedelta(days=1)
        if end >= today or rng.random() < 0.12:
            if rng.random() < 0.85:  # still serving
                result.append((kind, school, cursor, None))
                break
        end = min(end, today - timedelta(days=1))
        result.append((kind, school, cursor, end))
        next_start = end + timedelta(days=1)
        roll = rng.random()
        if roll < 0.12:  # a move: the new school's period starts before the old one ended (overlap)
            school = rng.choice(schools)
            next_start = end - timedelta(days=rng.randrange(30, 200))
        elif roll < 0.3:  # a gap: out of homeroom work for a while
            next_start = _september(end.year + rng.choice((1, 2, 3)), rng)
        cursor = max(next_start, cursor + timedelta(days=1))
    # The teacher's current school is where their last period is.
    return result


def load_district(
    session: Session, district: District, *, teachers: int = 15_000, years: int = 5, progress: Callable[[str], None]
) -> DistrictSummary:
    rng = random.Random(SEED)  # noqa: S311  # nosec B311 - reproducible demo data, not secrets
    if session.scalar(select(User.id).where(User.username == "d00001")) is not None:
        return DistrictSummary(0, 0, 0, 0, 0, skipped=True)
    now = clock.now()
    today = now.date()
    per_school = 100
    school_count = max(1, -(-teachers // per_school))
    existing = list(session.scalars(select(School).where(School.district_id == district.id).order_by(School.id)))
    schools = [s.id for s in existing][:school_count]
    for n in range(len(schools) + 1, school_count + 1):
        stage = STAGES[n % len(STAGES)]
        schools.append(people.ensure_school(session, district, f"SJD-{n:03d}", _school_name(n, stage), stage).id)
    progress(f"{len(schools)} schools")

    careers: list[tuple[int, date, int, list[tuple]]] = []  # (n, teaching start, home school, periods)
    user_rows = []
    for n in range(1, teachers + 1):
        home = schools[(n - 1) // per_school]
        teaching = date(rng.randrange(1984, today.year), 9, 1) + timedelta(days=rng.choice((0, 0, 0, 14, 45)))
        if teaching > today:
            teaching = date(today.year - 1, 9, 1)
        homeroom_start = teaching + timedelta(days=365 * rng.choice((0, 0, 1, 2, 3, 5)))
        career = _periods(rng, min(homeroom_start, today - timedelta(days=1)), home, schools, today)
        current_school = career[-1][1] if career else home
        careers.append((n, teaching, current_school, career))
        user_rows.append(
            {
                "username": f"d{n:05d}",
                "display_name": _name(rng),
                "password_hash": None,  # nosec B105 - None: no password, so no password sign-in
                "role": Role.teacher.value,
                "school_id": current_school,
                "is_active": True,
                "created_at": now,
            }
        )
    _bulk(session, User.__table__, iter(user_rows))
    del user_rows
    ids = dict(session.execute(select(User.username, User.id).where(User.username.like("d_____"))).all())
    progress(f"{teachers} teachers")

    def profiles() -> Iterator[dict[str, Any]]:
        for n, teaching, _school, career in careers:
            serving = any(p[3] is None for p in career)
            status = "appointed" if serving else ("trainee" if career and career[-1][0] == "trainee" else "reserve")
            served = today.year - teaching.year
            tier = "horizon" if served < 5 else "compass" if served < 15 else "climber" if served < 25 else "starry"
            yield {
                "user_id": ids[f"d{n:05d}"],
                "staff_no": f"SJ{n:05d}",
                "teaching_start": teaching,
                "tier": tier,
                "status": status,
            }

    def periods() -> Iterator[dict[str, Any]]:
        for n, _teaching, _school, career in careers:
            for kind, school_id, start, end in career:
                yield {"user_id": ids[f"d{n:05d}"], "kind": kind, "school_id": school_id, "start": start, "end": end}

    def evaluations() -> Iterator[dict[str, Any]]:
        for n, teaching, _school, _career in careers:
            for year in range(today.year - years, today.year):
                if year >= teaching.year:
                    result = rng.choices(("excellent", "qualified", "basic", "unqualified"), (0.18, 0.77, 0.04, 0.01))
                    yield {"user_id": ids[f"d{n:05d}"], "year": year, "result": result[0]}

    def entries() -> Iterator[dict[str, Any]]:
        for n, teaching, _school, _career in careers:
            user_id = ids[f"d{n:05d}"]
            for year in range(today.year - years + 1, today.year + 1):
                if year < teaching.year:
                    continue
                for k in range(rng.choice((2, 3, 3, 4))):
                    if year < today.year:
                        status = rng.choices(("certified", "rejected", "verified"), (0.92, 0.05, 0.03))[0]
                    else:
                        status = rng.choices(("pending", "verified", "certified", "rejected"), (0.4, 0.3, 0.25, 0.05))[
                            0
                        ]
                    created = datetime(year, rng.randrange(1, 13), rng.randrange(1, 28), 2, 0, tzinfo=now.tzinfo)
                    created = min(created, now)
                    yield {
                        "user_id": user_id,
                        "hours": Decimal(rng.choice((3, 4, 6, 6, 8, 12, 18))),
                        "category": rng.choices(CATEGORIES, (0.2, 0.3, 0.4, 0.1))[0],
                        "level": rng.choices(LEVELS, (0.15, 0.3, 0.45, 0.1))[0],
                        "source": "external",
                        "source_ref": f"demo-district:{n}:{year}:{k}",
                        "course_id": None,
                        "reverses_id": None,
                        "year": year,
                        "status": status,
                        "reason": "佐证材料不全" if status == "rejected" else None,
                        "trained_on": created.astimezone(clock.SHANGHAI).date(),
                        "created_at": created,
                    }

    counts = {}
    for label, table, rows in (
        ("profiles", TeacherProfile.__table__, profiles()),
        ("periods", ServicePeriod.__table__, periods()),
        ("evaluations", AnnualEvaluation.__table__, evaluations()),
        ("ledger entries", LedgerEntry.__table__, entries()),
    ):
        counts[label] = _bulk(session, table, rows)
        progress(f"{counts[label]} {label}")
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # Fresh bulk-loaded tables have no statistics yet; without them the planner picks nested loops that turn
        # the title-review filters from 0.1 s into 15 s until autovacuum gets round to it.
        session.execute(text("ANALYZE"))
    return DistrictSummary(len(schools), teachers, counts["periods"], counts["evaluations"], counts["ledger entries"])
