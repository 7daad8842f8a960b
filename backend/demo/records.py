"""The demo accounts' records of issue 5, made through the domain services (`portal demo load`, after the accounts).

What a person trying `make run` finds:
- 本校教师 / 教师档案: profiles, service periods and annual evaluations of the three demo teachers;
- 学时核定 / 学时认定 queues: entries pending, verified, certified and one sent back with its reason;
- 我的学时 (teacher): an external record with its evidence file, offline attendance, a certified year;
- 线下研修: a school session two weeks ago with attendance, and a district session in ten days;
- 证书: 王老师's certificate of last year's certified hours.

Dates are relative to today (Asia/Shanghai), so the demo looks current whenever it is loaded. Each part is skipped
when its first row exists, so a second load changes nothing.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.credits import certificates, external, workflow
from backend.credits.external import EvidenceFile, ExternalRecord, RecordIn
from backend.credits.models import LedgerEntry
from backend.kit import clock
from backend.media.storage import Storage
from backend.people import records
from backend.people.models import TeacherProfile
from backend.people.schools import school_by_code
from backend.policies.service import load_policy, set_policy
from backend.training import service as training
from backend.training.models import TrainingSession

PAST_SESSION = "班会课设计与实施：从主题到评价"
COMING_SESSION = "家校沟通中的冲突化解（区级专题）"

# (username, staff number, started teaching, tier, status, periods (kind, school code, start, end), evaluations)
PROFILES = (
    ("teacher", "SY2015012", "2015-09-01", "compass", "appointed",
     (("trainee", "SJ-SY", "2015-09-01", "2016-07-10"), ("deputy", "SJ-SY", "2016-09-01", "2018-07-10"),
      ("homeroom", "SJ-SY", "2018-09-01", None)),
     (("excellent", 3), ("qualified", 2), ("excellent", 1))),
    ("teacher_liu", "SY2022031", "2022-09-01", "horizon", "trainee",
     (("trainee", "SJ-SY", "2022-09-01", "2023-07-10"), ("deputy", "SJ-SY", "2023-09-01", None)),
     (("qualified", 2), ("qualified", 1))),
    ("teacher_zhou", "YX2010007", "2010-09-01", "climber", "appointed",
     (("homeroom", "SJ-EZ", "2010-09-01", "2017-07-10"), ("homeroom", "SJ-YX", "2017-09-01", None)),
     (("excellent", 2), ("excellent", 1))),
)  # fmt: skip

# (username, title, hours, category, level, earned: days ago or (years ago, month, day), file name, outcome).
# The school admin of 第一实验小学 verifies or sends back; the district certifies. 周老师 (岳阳中学, whose school has
# no demo admin) stays pending.
EXTERNAL = (
    ("teacher", "上海市中小学班主任带班育人能力专题培训", "12", "knowledge_skills", "city", (1, 10, 18), "结业证书.pdf",
     "certified"),
    ("teacher", "松江区心理健康教育C证培训", "8", "knowledge_skills", "district", (1, 11, 8), "C证培训证明.pdf",
     "certified"),
    ("teacher", "长三角班主任论坛（线上）", "3", "self_study", "city", 20, "论坛参会证明.pdf", "pending"),
    ("teacher_liu", "学校心理危机干预工作坊", "6", "practice", "workshop", 45, "签到表.pdf", "rejected"),
    ("teacher_zhou", "上海市骨干班主任高级研修班", "24", "knowledge_skills", "city", 60, "研修证书.pdf", "pending"),
)  # fmt: skip
REJECT_REASON = "证明材料只有签到表照片，看不清日期和学时；请上传盖章的结业证明后重新提交。"


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF standing in for the scanned proof (ASCII only: no font needed)."""
    text = f"Demo evidence: {title.encode('unicode_escape').decode('ascii')[:60]}"
    stream = f"BT /F1 12 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _teacher_records(session: Session, users: dict[str, User], today: date) -> None:
    admin = users["district_admin"]
    for username, staff_no, start, tier, status, periods, evaluations in PROFILES:
        teacher = users[username]
        if session.scalar(select(TeacherProfile.staff_no).where(TeacherProfile.user_id == teacher.id)):
            continue
        values = {"staff_no": staff_no, "teaching_start": start, "tier": tier, "status": status}
        records.update_profile(session, admin, teacher.id, values)
        for kind, school_code, begin, end in periods:
            school = school_by_code(session, school_code)
            assert school is not None
            period = {"kind": kind, "school_id": str(school.id), "start": begin, "end": end or ""}
            records.save_period(session, admin, teacher.id, period)
        for result, years_ago in evaluations:
            records.save_evaluation(session, admin, teacher.id, {"year": str(today.year - years_ago), "result": result})


def _entry_of(session: Session, record: ExternalRecord) -> LedgerEntry:
    ref = f"{workflow.EXTERNAL_PREFIX}{record.id}"
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.source_ref == ref))
    assert entry is not None
    return entry


def _external_records(session: Session, storage: Storage, users: dict[str, User], today: date) -> None:
    first = EXTERNAL[0]
    if session.scalar(select(ExternalRecord.id).where(ExternalRecord.title == first[1])) is not None:
        return
    school_admin, district_admin = users["school_admin"], users["district_admin"]
    for username, title, hours, category, level, earned, filename, outcome in EXTERNAL:
        teacher = users[username]
        if isinstance(earned, tuple):
            on = date(today.year - earned[0], earned[1], earned[2])
        else:
            on = today - timedelta(days=earned)
        data = RecordIn(title, hours, category, level, on.isoformat())
        record = external.submit(session, storage, teacher, data, EvidenceFile(filename, io.BytesIO(demo_pdf(title))))
        entry_ids = [_entry_of(session, record).id]
        # The teacher's own school admin verifies (or sends back); the district certifies.
        if outcome == "rejected":
            workflow.apply(session, school_admin, entry_ids, "reject", REJECT_REASON)
        elif outcome in ("verified", "certified"):
            workflow.apply(session, school_admin, entry_ids, "verify")
            if outcome == "certified":
                workflow.apply(session, district_admin, entry_ids, "certify")


def _offline_sessions(session: Session, users: dict[str, User], today: date) -> None:
    if session.scalar(select(TrainingSession.id).where(TrainingSession.title == PAST_SESSION)) is not None:
        return
    policy = load_policy(session)
    school_admin, district_admin = users["school_admin"], users["district_admin"]
    past = training.schedule(
        session, school_admin,
        {"title": PAST_SESSION, "theme": "主题班会的目标设定、环节设计与课后评价", "tier": "horizon",
         "level": "school", "category": "practice", "school_id": str(school_admin.school_id),
         "day": (today - timedelta(days=14)).isoformat(),
         "start_time": "14:00", "end_time": "16:30", "place": "第一实验小学 录播教室", "duration": "half"},
        policy,
    )  # fmt: skip
    training.mark_attendance(session, school_admin, past, user_ids=[users["teacher"].id, users["teacher_liu"].id])
    # 王老师's attendance is verified by the school; 刘老师's waits in the queue.
    ref = f"training:{past.id}:user:{users['teacher'].id}"  # backend.credits.ledger.record_offline_attendance
    entry_id = session.scalar(select(LedgerEntry.id).where(LedgerEntry.source_ref == ref))
    assert entry_id is not None
    workflow.apply(session, school_admin, [entry_id], "verify")
    training.schedule(
        session, district_admin,
        {"title": COMING_SESSION, "theme": "案例研讨：家长投诉、家委会分歧与沟通话术", "tier": "compass",
         "level": "district",
         "category": "knowledge_skills", "day": (today + timedelta(days=10)).isoformat(), "start_time": "09:00",
         "end_time": "16:00", "place": "松江区教育学院 报告厅", "duration": "full"},
        policy,
    )  # fmt: skip


def _certificate(session: Session, users: dict[str, User], today: date) -> None:
    teacher = users["teacher"]
    last_year = today.year - 1
    if not certificates.mine(session, teacher) and certificates.certified_hours(session, teacher.id, last_year) > 0:
        certificates.issue_year_certificate(session, users["district_admin"], teacher.username, str(last_year))


def load_records(session: Session, storage: Storage, users: dict[str, User]) -> None:
    today = clock.now().astimezone(clock.SHANGHAI).date()
    _teacher_records(session, users, today)
    _external_records(session, storage, users, today)
    _offline_sessions(session, users, today)
    _certificate(session, users, today)
    _assessment(session, users)
    session.flush()


# The demo's induction assessment (DOMAIN.md, Induction: an assessment after the training): the quiz of the last
# Horizon course, on education policy and law. A district names its own assessment course in the policy settings.
DEMO_ASSESSMENT_COURSE = "HZ-08"


def _assessment(session: Session, users: dict[str, User]) -> None:
    """Without an assessment nobody can complete the induction (issue 13): the demo names one, unless set."""
    if not load_policy(session).induction.induction_assessment_course:
        set_policy(session, "induction_assessment_course", DEMO_ASSESSMENT_COURSE, users["district_admin"].id)
