"""The dashboards' figures are the per-teacher figures added up: the same data read by each teacher's own pages
(the programmes of credits, the verification queue, the title review) gives the same totals."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.credits import programs, workflow
from backend.dashboards import figures, service
from backend.dashboards.models import DashboardRow
from backend.evidence import title_review
from backend.people.models import School
from backend.policies.service import load_policy
from tests.dashboards.helpers import small_district


def _row(session: Session, snapshot_id: int, code: str, tier: str = "") -> dict:
    school = session.scalar(select(School).where(School.code == code))
    assert school is not None
    return session.scalars(
        select(DashboardRow.figures).where(
            DashboardRow.snapshot_id == snapshot_id, DashboardRow.school_id == school.id, DashboardRow.tier == tier
        )
    ).one()


def test_dashboard_figures_equal_the_per_teacher_figures(session: Session) -> None:
    d = small_district(session)
    policy = load_policy(session)
    today = service.today()
    snapshot = figures.build_snapshot(session, kind="live", year=today.year, as_of=today)
    school_a = _row(session, snapshot.id, "D-A")
    teachers_a = [d.trainee_done, d.trainee_behind, d.veteran, d.idle]

    annual = [programs.annual_program(session, t.id, policy, today.year).checks[0] for t in teachers_a]
    assert Decimal(school_a["annual_certified"]) == sum(Decimal(c.have) for c in annual) == Decimal("116.0")
    assert Decimal(school_a["annual_awaiting"]) == sum(c.awaiting for c in annual) == Decimal("10.0")
    assert school_a["annual_reached"] == sum(1 for c in annual if c.met) == 1

    cycle = [programs.cycle_program(session, t.id, policy, today.year) for t in teachers_a]
    for code in figures.CATEGORY_CODES:
        per_teacher = sum(Decimal(c.checks[[x.code for x in c.checks].index(f"category_{code}")].have) for c in cycle)
        assert Decimal(school_a["cycle_category"][code]) / policy.credits.hours_per_credit == per_teacher, code
    for code in figures.LEVEL_CODES:
        per_teacher = sum(Decimal(c.checks[[x.code for x in c.checks].index(f"level_{code}")].have) for c in cycle)
        assert Decimal(school_a["cycle_level"][code]) / policy.credits.hours_per_credit == per_teacher, code

    inductions = [programs.induction_program(session, t.id, policy, today) for t in (d.trainee_done, d.trainee_behind)]
    done = [all(c.met for c in p.checks if c.code in ("hours", "topics")) for p in inductions]
    assert (school_a["trainees"], school_a["trainees_met"]) == (2, sum(done)) == (2, 1)

    queue = workflow.queue(session, d.school_admin, workflow.QueueFilters(status="pending"))
    assert school_a["pending"] == queue.total == 1
    certify = workflow.queue(session, d.admin, workflow.QueueFilters(status="verified"))
    assert school_a["verified"] + _row(session, snapshot.id, "D-B")["verified"] == certify.total == 1

    ids = [t.id for t in teachers_a]
    reviews = {uid: (r.waiver, h) for uid, r, h in title_review.reviews_of(session, ids, today, policy)}
    for t in teachers_a:
        one = title_review.teacher_review(session, d.admin, t.id, today)
        assert reviews.get(t.id, (False, False)) == (one.review.waiver, one.honoured)
    assert school_a["honours"] == sum(1 for w, h in reviews.values() if h) == 1
    assert school_a["waiver"] == sum(1 for w, h in reviews.values() if w) == 1
    assert (school_a["excellent"], school_a["excellent_homeroom"]) == (1, 1)

    # The tier rows split the school's row: every summed figure of the tiers adds up to the school's.
    tiers = [_row(session, snapshot.id, "D-A", tier) for tier in figures.TIER_CODES]
    for key in ("teachers", "trainees", "annual_reached", "pending", "honours"):
        assert sum(t[key] for t in tiers) == school_a[key], key
    assert sum(Decimal(t["annual_certified"]) for t in tiers) == Decimal(school_a["annual_certified"])

    # The district view adds the schools up, and the stage filter keeps only the schools of that stage.
    view = service.district_view(session, d.admin, service.Filters(year=today.year))
    mine = [line for line in view.lines if line.school.code in ("D-A", "D-B")]
    assert sum(Decimal(line.figures["annual_certified"]) for line in mine) == Decimal("136.0")
    assert service.district_view(session, d.admin, service.Filters(year=today.year, stage="high")).lines == []


def test_a_school_admin_sees_whos_behind_in_their_school_with_what_is_missing(session: Session) -> None:
    d = small_district(session)
    school = session.get(School, d.school_admin.school_id)
    assert school is not None
    rows = {b.teacher.user_id: b for b in service.behind(session, d.school_admin, school, service.today().year)}
    assert d.trainee_done.id in rows  # induction done, but 32 of 72 certified hours this year
    assert {m.action for m in rows[d.trainee_behind.id].missing} == {"assign", "record", "verify"}
    assert "4.0" in rows[d.trainee_behind.id].missing[0].text and "32.0" in rows[d.trainee_behind.id].missing[0].text
    assert d.veteran.id not in rows  # 80 certified ≥ 72, nothing pending
    assert d.other.id not in rows  # another school's teacher


def test_month_end_snapshot_is_frozen_while_the_live_view_moves_on(session: Session) -> None:
    from tests.dashboards.helpers import entry

    d = small_district(session)
    today = service.today()
    month = figures.month_end(today)
    frozen = figures.build_snapshot(session, kind="month", year=month.year, as_of=month)
    before = _row(session, frozen.id, "D-B")
    entry(session, d.other, "50", "certified", category="self_study", level="district")
    live = figures.build_snapshot(session, kind="live", year=today.year, as_of=today)
    assert Decimal(_row(session, live.id, "D-B")["annual_certified"]) == Decimal("70.0")
    assert _row(session, frozen.id, "D-B") == before  # kept as it was
    months = service.month_snapshots(session)
    assert [m.as_of for m in months] == [month]


def test_an_operator_freezes_a_month_from_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_cli import portal

    env = {**__import__("os").environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "MEDIA_ROOT": str(tmp_path / "media"), "DEMO_MODE": "true"}  # fmt: skip
    assert portal(env, "db", "upgrade").returncode == 0
    done = portal(env, "dashboard", "snapshot", "--month", "2026-06")
    assert done.returncode == 0 and "2026-06-30" in done.stdout, done.stderr
    wrong = portal(env, "dashboard", "snapshot", "--month", "June")
    assert wrong.returncode == 1 and "YYYY-MM" in wrong.stderr


def test_waiting_times_come_from_the_status_history(session: Session) -> None:
    """An entry recorded five days ago, verified by the school today and certified by the district: the school's
    step waited five days, the district's none; the row counts one of each."""
    from datetime import timedelta

    from backend.kit import clock
    from tests.dashboards.helpers import entry

    d = small_district(session)
    row = entry(session, d.idle, "6", "pending", created=clock.now() - timedelta(days=5))
    workflow.apply(session, d.school_admin, [row.id], "verify")
    workflow.apply(session, d.admin, [row.id], "certify")
    today = service.today()
    snapshot = figures.build_snapshot(session, kind="live", year=today.year, as_of=today)
    school_a = _row(session, snapshot.id, "D-A")
    assert (school_a["verified_n"], school_a["certified_n"]) == (1, 1)
    assert 4.99 < school_a["verify_days"] < 5.01 and school_a["certify_days"] < 0.01
    assert service.mean_days(school_a["verify_days"], school_a["verified_n"]) == "5.0"


def test_classes_the_workshop_rule_and_mentors_read_as_on_the_organisation_pages(session: Session) -> None:
    """每班必须配备班主任, the workshop rule and trainees' mentors: the dashboard shows what the organisation's own
    pages say for the same school and day."""
    from datetime import date

    from backend.organisation import classes, mentoring, workshops
    from tests.organisation.helpers import district_admin, make_classes, school_admin
    from tests.people.helpers import make_teacher

    day = date(2026, 10, 15)  # in the 2026 school year
    admin, district = school_admin(session, "ORG-A"), district_admin(session)
    make_classes(session, admin, 15)
    unstaffed = classes.add_class(session, admin, admin.school_id, 2026, "16班", "三年级")  # nobody appointed
    policy = load_policy(session)

    snapshot = figures.build_snapshot(session, kind="month", year=2026, as_of=day)
    row = _row(session, snapshot.id, "ORG-A")
    compliance = classes.class_compliance(session, admin.school_id, 2026, day)
    [rule] = workshops.workshop_rule(session, district, 2026, policy, day, school_id=admin.school_id)
    assert (row["classes"], row["classes_without_homeroom"]) == (compliance.classes, len(compliance.without)) == (16, 1)
    assert compliance.without == (unstaffed.name,)
    assert row["workshop_rule"] == rule.status == "not_met"  # 16 classes and no school workshop
    everyone = mentoring.trainees_without_mentor(session, district, day)
    unmentored = [u for u in everyone if u.school_id == admin.school_id]
    assert row["trainees_without_mentor"] == len(unmentored)
    assert _row(session, snapshot.id, "ORG-A", "horizon")["classes"] == 16  # the same in every tier's row
    assert row["pool_members"] == 0  # nobody nominated yet

    # A teacher nominated to the reserve pool before the day counts for the nominating school.
    from backend.organisation import pool
    from backend.people.models import AnnualEvaluation

    nominee = make_teacher(session, "ORG-A", name="储备甲")
    session.add(AnnualEvaluation(user_id=nominee.id, year=2025, result="qualified"))
    session.flush()
    pool.nominate(session, admin, nominee.id, policy, willing=True, since="2026-10-01")
    later = figures.build_snapshot(session, kind="month", year=2026, as_of=day)
    assert _row(session, later.id, "ORG-A")["pool_members"] == len(pool.list_members(session, district, policy)) == 1

    view = service.district_view(session, district, service.Filters(year=2026, as_of=day))
    assert view.total["schools_without_homeroom"] >= 1 and view.total["workshop_not_met"] >= 1
