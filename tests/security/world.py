"""The seeded world the route matrix and the fuzzer act on: two schools of one district, an actor for every role,
and one of every kind of record a route takes as a path parameter.

The records that belong to a school belong to school B: its teacher's enrollment, ledger entries, quiz attempt,
assignment submission, external record, certificate, teacher record, service period and evaluation, and a school-based
session of school B. The school admin of school A is the "other school" actor of the matrix; the teacher of school A
is the "other teacher". The courses belong to `trainer`; `other_trainer` is a trainer who owns none of them.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.accounts import service as accounts
from backend.accounts import tokens
from backend.accounts.credentials import digest_token
from backend.accounts.models import ApiToken, Role, User
from backend.catalogue import ownership
from backend.catalogue.models import Lesson
from backend.credits import certificates, external
from backend.credits import ledger as credits
from backend.credits.certificate_models import Certificate
from backend.dashboards.models import DashboardJob
from backend.kit import clock
from backend.kit.csrf import CSRF_COOKIE, new_cookie_value, token_for
from backend.learning import playbacks
from backend.learning import service as learning
from backend.media import uploads
from backend.media.models import Upload, UploadState
from backend.media.storage import Storage
from backend.organisation import assignments as assigned_learning
from backend.organisation import classes, evaluation, mentoring, pool, workshops
from backend.organisation.models import WorkshopOutput
from backend.people import declined
from backend.people import schools as people
from backend.people.models import AnnualEvaluation, ServicePeriod, TeacherProfile
from backend.policies.service import load_policy
from backend.quizzes import assignments, banks
from backend.quizzes import service as quizzes
from backend.quizzes.banks import QuestionInput
from backend.training import checkin
from backend.training import service as training
from tests.factories import PASSWORD, make_course

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
SESSION_TITLE = "乙校班级危机干预案例研讨"  # school B's school-based session
# Every actor of the matrix, in the order the report lists them.
ROLES = (
    "anonymous",
    "teacher",
    "other_teacher",
    "trainer",
    "other_trainer",
    "school_admin_own",
    "school_admin",
    "district_admin",
)


@dataclass
class World:
    users: dict[str, User]
    ids: dict[str, object]  # path parameter values by name (see route_matrix.PATH_VALUES)
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)  # per role: session and CSRF cookies
    csrf: dict[str, str] = field(default_factory=dict)  # per role: the CSRF token matching its cookie


def _user(session: Session, role: Role, school_id: int | None, name: str) -> User:
    return accounts.create_user(
        session,
        username=f"{name}-{uuid.uuid4().hex[:6]}",
        display_name=name,
        password=PASSWORD,
        role=role,
        school_id=school_id,
    )


def build_world(session: Session, storage: Storage, secret_key: str, session_cookie: str) -> World:
    district = people.ensure_district(session, "sec", "安全测试区")
    school_a = people.ensure_school(session, district, "SEC-A", "甲学校", "primary")
    school_b = people.ensure_school(session, district, "SEC-B", "乙学校", "primary")
    users = {
        "teacher": _user(session, Role.teacher, school_b.id, "乙校老师"),
        "other_teacher": _user(session, Role.teacher, school_a.id, "甲校老师"),
        "trainer": _user(session, Role.trainer, None, "课程作者"),
        "other_trainer": _user(session, Role.trainer, None, "另一位培训者"),
        "school_admin_own": _user(session, Role.school_admin, school_b.id, "乙校管理员"),
        "school_admin": _user(session, Role.school_admin, school_a.id, "甲校管理员"),
        "district_admin": _user(session, Role.district_admin, None, "区管理员"),
    }
    co_owner = _user(session, Role.trainer, None, "合作作者")
    teacher, trainer = users["teacher"], users["trainer"]
    policy = load_policy(session)

    # Teacher records of school B's teacher.
    session.add(
        TeacherProfile(
            user_id=teacher.id,
            staff_no=f"SEC{uuid.uuid4().hex[:6]}",
            status="appointed",
            teaching_start=date(2010, 9, 1),
        )
    )
    period = ServicePeriod(user_id=teacher.id, kind="homeroom", school_id=school_b.id, start=date(2015, 9, 1))
    session.add(period)
    session.add(AnnualEvaluation(user_id=teacher.id, year=2025, result="excellent"))

    # A published course of the trainer, with a video lesson (a real file behind it) and a quiz; a draft course.
    course = make_course(session, title="家校沟通入门", video_ms=(60_000,), with_quiz=False)
    storage.put_stream(course.lessons[0].media_key, io.BytesIO(b"\x00" * 2048), 2048, "video/mp4")
    course.cover_key = "covers/sec-cover.png"
    storage.put_stream(course.cover_key, io.BytesIO(PNG), len(PNG), "image/png")
    document = Lesson(
        position=2,
        kind="document",
        title="阅读材料",
        body_md="",
        media_key="documents/sec.pdf",
        media_type="application/pdf",
    )
    course.lessons.append(document)
    storage.put_stream(document.media_key, io.BytesIO(PDF), len(PDF), "application/pdf")
    ownership.add_owner(session, course.code, trainer.id)
    quiz = banks.ensure_quiz(session, course.id)
    question = banks.add_question(
        session, QuestionInput("single", "班会课一般由谁主持？", ["班主任", "校长"], [0], [], "", 1), quiz=quiz
    )
    banks.add_question(session, QuestionInput("essay", "请简述主题班会的设计要点。", [], [], [], "", 10), quiz=quiz)
    draft = make_course(session, title="草稿课程", status="draft", video_ms=(60_000,), with_quiz=False)
    ownership.add_owner(session, draft.code, trainer.id)
    ownership.add_owner(session, draft.code, co_owner.id)
    draft_quiz = banks.ensure_quiz(session, draft.id)
    draft_question = banks.add_question(
        session, QuestionInput("truefalse", "班主任应当关注每一名学生。", [], True, [], "", 1), quiz=draft_quiz
    )
    bank = banks.create_bank(session, title="班会题库", topic="norms", course_code=draft.code, actor_id=trainer.id)
    bank_question = banks.add_question(
        session, QuestionInput("single", "家访前要做什么？", ["准备", "不准备"], [0], [], "", 1), bank=bank
    )
    rule = banks.add_draw_rule(session, draft_quiz, bank, 1)
    assignment = assignments.create_assignment(
        session, course.id, assignments.AssignmentInput("班会设计方案", "提交一份方案。", 60, True, True, [], 100)
    )

    # School B's teacher learns: enrollment, a playback, a quiz attempt, a submission, a ledger entry.
    enrollment = learning.enroll(session, teacher.id, course)
    playback = playbacks.start_playback(session, teacher.id, course.lessons[0].id, policy).playback
    attempt = quizzes.start_attempt(session, quizzes.get_quiz(session, quiz.id), teacher.id)
    submission = assignments.submit(session, storage, assignment, teacher.id, "我的班会设计方案。", None)
    submission.file_key, submission.file_name, submission.file_type, submission.file_size = (
        "submissions/sec.pdf",
        "方案.pdf",
        "application/pdf",
        len(PDF),
    )
    storage.put_stream(submission.file_key, io.BytesIO(PDF), len(PDF), "application/pdf")
    entry = credits.record_course_completion(
        session,
        user_id=teacher.id,
        course_id=course.id,
        enrollment_id=enrollment.id,
        hours=Decimal("4.0"),
        category="knowledge_skills",
    )
    record = external.submit(
        session,
        storage,
        teacher,
        external.RecordIn(
            title="区级班主任基本功培训",
            hours="3.5",
            category="knowledge_skills",
            level="district",
            earned_on="2026-06-01",
        ),
        external.EvidenceFile("证书.png", io.BytesIO(PNG)),
    )
    certificate = Certificate(
        number=certificates.new_number(2026),
        kind="course",
        subject=f"course:{course.id}:user:{teacher.id}",
        user_id=teacher.id,
        holder_name=teacher.display_name,
        title=course.title,
        hours=Decimal("4.0"),
        course_id=course.id,
        issued_at=clock.now(),
        issued_by_id=users["district_admin"].id,
    )
    session.add(certificate)

    # A school-based session of school B, scheduled by its admin, and its current check-in code.
    ts = training.schedule(
        session,
        users["school_admin_own"],
        {
            "title": SESSION_TITLE,
            "theme": "班级危机干预",
            "tier": "horizon",
            "level": "school",
            "category": "practice",
            "school_id": str(school_b.id),
            "day": "2026-11-02",
            "start_time": "09:00",
            "end_time": "11:30",
            "place": "会议室",
            "duration": "half",
            "hours": "",
        },
        policy,
    )
    code = checkin.code_for(secret_key, ts.id, checkin.step_at(clock.now(), policy.training.checkin_code_seconds))

    # School B's organisation (issue 16): a class with the teacher as its 班主任, a school workshop hosted by the
    # trainer with the teacher as a member.
    school_class = classes.add_class(session, users["school_admin_own"], school_b.id, 2026, "一（1）班")
    appointment = classes.appoint(
        session, users["school_admin_own"], school_class.id, teacher.id, "homeroom", "2026-09-01", policy
    )
    workshop = workshops.create_workshop(
        session, users["district_admin"], name="乙校班主任工作室", level="school", stage="primary",
        school_id=school_b.id, host_id=trainer.id,
    )  # fmt: skip
    member = workshops.add_member(session, users["district_admin"], workshop.id, teacher.id, "member", "2026-09-01")
    mentor = _user(session, Role.teacher, school_b.id, "乙校带教老师")
    pair = mentoring.create_pair(session, users["school_admin_own"], mentor.id, teacher.id, "2026-09-01", "2027-06-30")
    # The teacher in the reserve pool, nominated by school B, and the course assigned by school B to its pool.
    pool_member = pool.nominate(session, users["school_admin_own"], teacher.id, policy, willing=True)
    learning_assignment = assigned_learning.create(
        session, users["school_admin_own"], course_id=course.id, kind="pool", due="2026-12-31"
    )
    # The teacher's output in that workshop (pending the host's review), its file in storage; the district's published
    # workshop evaluation indicators.
    output = WorkshopOutput(
        workshop_id=workshop.id, author_id=teacher.id, title="安全测试成果", kind="case", summary="",
        media_key="outputs/sec-output.pdf", media_type="application/pdf", media_kind="document", media_name="成果.pdf",
        media_size=len(PDF), pages=1, status="pending", created_at=clock.now(),
    )  # fmt: skip
    session.add(output)
    storage.put_stream(output.media_key, io.BytesIO(PDF), len(PDF), "application/pdf")
    district_admin = users["district_admin"]
    indicator_set = evaluation.create_set(session, district_admin, "安全测试指标")
    indicator = evaluation.add_indicator(session, district_admin, indicator_set.id, "开展活动", "10", "activities")
    evaluation.publish(session, district_admin, indicator_set.id)
    session.flush()
    # The plan's 二(一)1: school B recorded that its teacher declined appointment without good reason in 2024.
    refusal = declined.record(session, users["school_admin_own"], teacher.id, 2024, "无正当理由拒绝担任班主任")

    # The trainer's unfinished upload and the district's integration token.
    upload = uploads.start_upload(session, storage, trainer, filename="第1讲.mp4", size=4096, kind="video")
    token = tokens.create_integration_token(
        session, users["district_admin"], name="人事系统", scopes=["records:read"], days=90
    ).token
    personal_token = accounts.create_api_token(session, teacher, name="脚本")
    personal_token_id = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest_token(personal_token)))
    ready = Upload(
        owner_id=trainer.id,
        kind="image",
        filename="封面.png",
        size=len(PNG),
        chunk_size=len(PNG),
        received=len(PNG),
        parts=[],
        state=UploadState.ready,
        created_at=clock.now(),
        storage_key="uploads/sec-ready.png",
        poster_key="uploads/sec-ready.png",
        content_type="image/png",
    )
    session.add(ready)
    storage.put_stream(ready.storage_key, io.BytesIO(PNG), len(PNG), "image/png")
    # The district admin's export of every teacher's figures (failed, so visiting it starts no work).
    job = DashboardJob(
        kind="export", key=f"export:{users['district_admin'].id}", params={}, state="failed", done=0, total=0,
        requested_by=users["district_admin"].id, created_at=clock.now(),
    )  # fmt: skip
    session.add(job)
    session.flush()

    ids: dict[str, object] = {
        "job_id": job.id,
        "school_b_id": school_b.id,
        "course_id": course.id,
        "draft_course_id": draft.id,
        "lesson_id": course.lessons[0].id,
        "draft_lesson_id": draft.lessons[0].id,
        "attempt_id": attempt.id,
        "assignment_id": assignment.id,
        "submission_id": submission.id,
        "entry_id": entry.id,
        "record_id": record.id,
        "teacher_id": teacher.id,
        "user_id": teacher.id,
        "period_id": period.id,
        "year": 2025,
        "question_id": question.id,
        "draft_question_id": draft_question.id,
        "bank_question_id": bank_question.id,
        "rule_id": rule.id,
        "bank_id": bank.id,
        "owner_id": co_owner.id,
        "upload_id": upload.id,
        "ready_upload_id": ready.id,
        "document_lesson_id": document.id,
        "index": 0,
        "session_id": ts.id,
        "code": code,
        "token_id": token.id,
        "personal_token_id": personal_token_id,
        "number": certificate.number,
        "playback_id": playback.id,
        "prompt_id": "p-unknown",
        "draft_code": draft.code,
        "scan_proof": checkin.scan_proof(secret_key, ts.id, clock.now()),
        "teacher_username": teacher.username,
        "class_id": school_class.id,
        "appointment_id": appointment.id,
        "workshop_id": workshop.id,
        "member_id": member.id,
        "school_code": school_b.code,
        "pair_id": pair.id,
        "pool_member_id": pool_member.id,
        "learning_assignment_id": learning_assignment.id,
        "declined_id": refusal.id,
        "output_id": output.id,
        "set_id": indicator_set.id,
        "indicator_id": indicator.id,
    }
    world = World(users=users, ids=ids)
    world.cookies["anonymous"] = {}
    world.csrf["anonymous"] = _csrf(world, "anonymous", secret_key)
    for role, user in users.items():
        signed_in = accounts.start_session(session, user)
        world.cookies[role] = {session_cookie: signed_in.token}
        world.csrf[role] = _csrf(world, role, secret_key)
    session.flush()
    return world


def _csrf(world: World, role: str, secret_key: str) -> str:
    value = new_cookie_value()
    world.cookies[role][CSRF_COOKIE] = value
    return token_for(secret_key, value)
