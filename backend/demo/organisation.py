"""The demo's homeroom organisation (issue 16), made through the same services and imports people use.

What someone trying `make run` finds under 管理 › 班主任队伍 (this school year, counted today):
- 第一实验小学: 16 classes, each with its 班主任 (王老师 among them, 刘老师 as 副班主任), and a school workshop of
  9 members: the workshop rule is met;
- 岳阳中学: 15 classes, one still without a 班主任, and a school workshop of 7 members: the rule is not met;
- 松江二中 and 泗泾小学 (fewer than 15 classes each): a joint workshop of 8 members, so both meet it that way;
- a district workshop hosted by 李德研员 (the trainer) with an activity a week ago whose attendance gave 王老师 and
  刘老师 pending hours, and an exchange visit (互学互访) in two weeks;
- 刘老师's tier set by the district (地平线), with the reason, on the teacher record;
- a mentoring pair: 王老师 mentors the trainee 刘老师, two meetings in the log;
- the reserve pool (储备池): two teachers of 第一实验小学 nominated by 张主任, one reviewed by the district as ready
  for appointment (可聘任); the pool's rolling training is the course HZ-01 assigned to it, due in a month;
- an assignment with one teacher late: HZ-02 assigned by the district to a list (周老师), its deadline three days ago
  and the course not completed (`load_pool_and_assignments`).
- a declined appointment (拒任班主任) of a 岳阳中学 teacher this year, shown in this year's title review;
- (with media storage) two outputs of the district workshop, one accepted by its host and one waiting, and the
  district's published evaluation indicators with the host's self-assessment of this year.
The extra teachers come in through the roster import and the classes through the class import, as a school would
bring them. Skipped entirely when the first school workshop exists, so a second load changes nothing.
"""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts.models import User
from backend.catalogue import service as catalogue
from backend.demo.records import demo_pdf
from backend.media import uploads
from backend.media.storage import Storage
from backend.organisation import (
    assignments,
    class_import,
    evaluation,
    mentoring,
    outputs,
    pool,
    scope,
    tiers,
    workshops,
)
from backend.organisation.models import PoolMember, Workshop
from backend.people import declined, directory, records, roster
from backend.people import schools as people
from backend.policies.service import load_policy
from backend.training import service as training

SY_WORKSHOP = "第一实验小学班主任工作室"
YX_WORKSHOP = "岳阳中学班主任工作室"
JOINT_WORKSHOP = "松江二中—泗泾小学联合工作室"
DISTRICT_WORKSHOP = "松江区小学班主任工作室（区级）"
PAST_ACTIVITY = "工作室研修：主题班会的设计与评价"
EXCHANGE_PARTNER = "嘉定区王晓燕班主任工作室"
DECLINED_REASON = "学校安排担任空缺班级的班主任，本人无正当理由拒绝"
ACCEPTED_OUTPUT = "“学会感恩”主题班会设计"
PENDING_OUTPUT = "案例：帮助转学生融入新集体"
INDICATOR_SET = "松江区班主任工作室评估指标"
SURNAMES = "赵钱孙李吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
# (school code, staff-number prefix, extra teachers, classes, classes with a 班主任)
SCHOOLS = (("SJ-SY", "SYD", 15, 16, 16), ("SJ-YX", "YXD", 14, 15, 14), ("SJ-EZ", "EZD", 6, 6, 6),
           ("SJ-SJ", "SJD", 4, 4, 4))  # fmt: skip
GRADES = ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级")


def _teacher_numbers(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:03d}" for n in range(1, count + 1)]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(row) for row in [header, *rows]).encode("utf-8")


def _uploaded_pdf(session: Session, storage: Storage, user: User, filename: str, title: str) -> str:
    """A PDF sent through the upload pipeline as a member's browser sends it (start, one chunk, complete)."""
    data = demo_pdf(title)
    upload = uploads.start_upload(session, storage, user, filename=filename, size=len(data), kind="document")
    plan = uploads.prepare_chunk(session, user, upload.id, 0, len(data), None)
    uploads.store_chunk(session, storage, plan, io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]
    uploads.complete_upload(session, storage, uploads.prepare_completion(session, user, upload.id))
    return str(upload.id)


def _outputs_and_evaluation(
    session: Session, storage: Storage, users: dict[str, User], workshop: Workshop, year: int
) -> None:
    """Two outputs of the district workshop (one accepted by its host, one waiting) and the district's published
    evaluation indicators with the host's self-assessment of this year."""
    trainer, district_admin = users["trainer"], users["district_admin"]
    accepted = outputs.submit(
        session, users["teacher"], workshop.id, title=ACCEPTED_OUTPUT, kind="meeting_design",
        summary="三年级“学会感恩”主题班会的设计、实施与反思。",
        upload_id=_uploaded_pdf(session, storage, users["teacher"], "感恩主题班会设计.pdf", "class meeting design"),
    )  # fmt: skip
    outputs.accept(session, trainer, accepted.id)
    outputs.submit(
        session, users["teacher_liu"], workshop.id, title=PENDING_OUTPUT, kind="case",
        summary="一名转学生融入新班级的过程与班主任的做法。",
        upload_id=_uploaded_pdf(session, storage, users["teacher_liu"], "转学生案例.pdf", "case"),
    )  # fmt: skip
    indicator_set = evaluation.create_set(session, district_admin, INDICATOR_SET)
    for name, top, figure in (("工作室活动开展", "25", "activities"), ("成员参与", "15", "attendance"),
                              ("成员研修学时", "20", "certified_hours"), ("成果产出", "20", "outputs_accepted"),
                              ("辐射引领与特色", "20", "")):  # fmt: skip
        evaluation.add_indicator(session, district_admin, indicator_set.id, name, top, figure)
    evaluation.publish(session, district_admin, indicator_set.id)
    items = evaluation.indicators_of(session, indicator_set.id)
    scores = {item.id: (score, "") for item, score in zip(items, ("22", "13", "15", "16", "17"), strict=True)}
    evaluation.self_assess(session, trainer, workshop.id, year, scores)


def load_organisation(session: Session, storage: Storage | None = None) -> None:
    if session.scalar(select(Workshop.id).where(Workshop.name == SY_WORKSHOP)) is not None:
        return
    names = ["teacher", "teacher_liu", "teacher_zhou", "trainer", "district_admin"]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    district_admin = users["district_admin"]
    district = people.ensure_district(session, "songjiang", "松江区")
    people.ensure_school(session, district, "SJ-SJ", "松江区泗泾小学", "primary")
    policy = load_policy(session)
    today = scope.today()
    year = scope.school_year_of(today, policy)
    first_day = scope.school_year_bounds(year, policy)[0]

    # The teachers the demo accounts do not cover, through the roster import (accounts without a password: SSO).
    rows = []
    for code, prefix, count, _classes, _filled in SCHOOLS:
        for n, number in enumerate(_teacher_numbers(prefix, count)):
            rows.append([number, f"{SURNAMES[(n + len(prefix) * 3) % len(SURNAMES)]}老师{number[-2:]}", code,
                         "2018-09-01", "班主任", ""])  # fmt: skip
    roster.import_roster(session, district_admin, _csv(list(roster.COLUMNS), rows), "示范教师名单.csv")

    # Each school's classes and 班主任 through the class import.
    start = max(first_day, today - timedelta(days=60)).isoformat()
    for code, prefix, count, class_count, filled in SCHOOLS:
        school = people.school_by_code(session, code)
        assert school is not None
        numbers = _teacher_numbers(prefix, count)
        if code == "SJ-SY":
            numbers = ["SY2015012", *numbers]  # 王老师 is the 班主任 of the first class
        lines = []
        for n in range(class_count):
            grade = GRADES[n // 3 % len(GRADES)]
            homeroom = numbers[n] if n < filled and n < len(numbers) else ""
            deputy = "SY2022031" if code == "SJ-SY" and n == 0 else ""  # 刘老师, 副班主任 of 一（1）班
            lines.append([f"{grade[:1]}（{n % 3 + 1}）班", grade, homeroom, deputy, "", start])
        content = _csv(list(class_import.COLUMNS), lines)
        report = class_import.import_classes(session, district_admin, school.id, year, content, f"{code}.csv", policy)
        assert report.ok, report.errors

    # Workshops: the members' terms start with the school year.
    def workshop(name: str, level: str, school_code: str | None, members: list[str], **kw: object) -> Workshop:
        school = people.school_by_code(session, school_code) if school_code else None
        made = workshops.create_workshop(
            session, district_admin, name=name, level=level, stage="primary" if level != "joint" else "all",
            school_id=school.id if school else None, **kw,  # type: ignore[arg-type]
        )  # fmt: skip
        for number in members:
            teacher = directory.user_with_staff_no(session, number)
            assert teacher is not None, number
            workshops.add_member(session, district_admin, made.id, teacher.id, "member", first_day.isoformat())
        return made

    workshop(SY_WORKSHOP, "school", "SJ-SY", ["SY2015012", "SY2022031", *_teacher_numbers("SYD", 7)])
    workshop(YX_WORKSHOP, "school", "SJ-YX", _teacher_numbers("YXD", 7))
    sj = people.school_by_code(session, "SJ-SJ")
    assert sj is not None
    joint = workshops.create_workshop(
        session, district_admin, name=JOINT_WORKSHOP, level="joint", stage="all",
        school_id=people.school_by_code(session, "SJ-EZ").id,  # type: ignore[union-attr]
        member_school_ids=[sj.id],
    )  # fmt: skip
    for number in [*_teacher_numbers("EZD", 5), *_teacher_numbers("SJD", 3)]:
        teacher = directory.user_with_staff_no(session, number)
        assert teacher is not None
        workshops.add_member(session, district_admin, joint.id, teacher.id, "member", first_day.isoformat())

    trainer = users["trainer"]
    district_workshop = workshops.create_workshop(
        session, district_admin, name=DISTRICT_WORKSHOP, level="district", stage="primary", host_id=trainer.id
    )
    for username in ("teacher", "teacher_liu", "teacher_zhou"):
        workshops.add_member(session, district_admin, district_workshop.id, users[username].id, "member",
                             first_day.isoformat())  # fmt: skip
    past = workshops.add_activity(
        session, trainer, district_workshop.id,
        {"title": PAST_ACTIVITY, "theme": "主题班会", "tier": "compass", "category": "practice",
         "day": (today - timedelta(days=7)).isoformat(), "start_time": "13:30", "end_time": "16:30",
         "place": "松江区教育学院 302 室", "duration": "half", "kind": "session"},
        policy,
    )  # fmt: skip
    ts = training.get_training_session(session, past.session_id)
    training.mark_attendance(session, trainer, ts, user_ids=[users["teacher"].id, users["teacher_liu"].id])
    workshops.add_activity(
        session, trainer, district_workshop.id,
        {"title": f"互学互访：{EXCHANGE_PARTNER}", "theme": "", "tier": "", "category": "practice",
         "day": (today + timedelta(days=14)).isoformat(), "start_time": "09:00", "end_time": "15:30",
         "place": "嘉定区", "duration": "full", "kind": "exchange", "partner": EXCHANGE_PARTNER},
        policy,
    )  # fmt: skip

    tiers.set_tier(session, district_admin, users["teacher_liu"].id, "horizon", first_day, "见习班主任，按政策建议")

    # The plan's 二(一)1: a teacher of 岳阳中学 declined the vacant class without good reason this year; the title
    # review of this year shows it (暂缓当年度评优评先、职称及职务晋升).
    refused = directory.user_with_staff_no(session, "YXD014")
    assert refused is not None
    declined.record(session, district_admin, refused.id, today.year, DECLINED_REASON)

    if storage is not None:  # outputs carry files: only where the demo has its media storage
        _outputs_and_evaluation(session, storage, users, district_workshop, today.year)

    # A mentoring pair: 王老师 mentors the trainee 刘老师 this school year; two meetings logged, not yet signed off.
    pair = mentoring.create_pair(
        session, district_admin, users["teacher"].id, users["teacher_liu"].id, first_day.isoformat(),
        scope.school_year_bounds(year, policy)[1].isoformat(), "熟悉班级常规管理；独立设计并实施一次主题班会",
    )  # fmt: skip
    for days_ago, minutes, notes in ((30, 90, "跟岗观察晨会与午间管理"), (10, 60, "主题班会设计指导")):
        day = max(first_day, today - timedelta(days=days_ago))
        mentoring.log_meeting(session, users["teacher"], pair.id, day.isoformat(), minutes, notes)


# Two young teachers of 第一实验小学 (任职状态 储备池) whom the school nominates, through the roster import.
POOL_CANDIDATES = (("SYR001", "沈老师R1"), ("SYR002", "韩老师R2"))


def load_pool_and_assignments(session: Session) -> None:
    """The reserve pool and assigned learning (issue 16); skipped when the pool has a member already."""
    if session.scalar(select(PoolMember.id).limit(1)) is not None:
        return
    names = ["school_admin", "district_admin", "teacher_zhou"]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(names)))}
    school_admin, district_admin = users["school_admin"], users["district_admin"]
    policy = load_policy(session)
    today = scope.today()
    rolling, late = catalogue.current_published(session, "HZ-01"), catalogue.current_published(session, "HZ-02")
    if rolling is not None:  # the pool's rolling training: whoever is nominated is enrolled
        assignments.create(session, district_admin, course_id=rolling.id, kind="pool",
                           due=(today + timedelta(days=30)).isoformat(), note="储备池滚动培训：本学期必修")  # fmt: skip
    rows = [[number, name, "SJ-SY", "2024-09-01", "储备池", ""] for number, name in POOL_CANDIDATES]
    roster.import_roster(session, district_admin, _csv(list(roster.COLUMNS), rows), "储备教师名单.csv")
    members = []
    for n, (number, _name) in enumerate(POOL_CANDIDATES):
        teacher = directory.user_with_staff_no(session, number)
        assert teacher is not None, number
        # The school records last year's evaluation (考评合格, the district's criterion), then nominates.
        records.save_evaluation(session, school_admin, teacher.id,
                                {"year": str(today.year - 1), "result": "excellent" if n == 0 else "qualified"})
        members.append(pool.nominate(
            session, school_admin, teacher.id, policy, willing=True, reason="本人自愿，带班经验丰富",
            since=(today - timedelta(days=120)).isoformat(),
        ))  # fmt: skip
    pool.review(session, district_admin, members[0].id, "ready", "储备期表现优秀，培训按时完成，可聘任",
                (today - timedelta(days=5)).isoformat())  # fmt: skip
    if late is not None:  # one teacher late: the deadline passed three days ago and the course is not completed
        assignments.create(session, district_admin, course_id=late.id, kind="list",
                           due=(today - timedelta(days=3)).isoformat(), note="区级必修：德育工作专题",
                           teacher_ids=[users["teacher_zhou"].id])  # fmt: skip
