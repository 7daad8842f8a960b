"""Tables of the homeroom organisation (DOMAIN.md; the plan's 二(一)3, 二(二)1, 二(二)2, 二(三)3).

A school year (学年) is named by the calendar year it starts in: 2026学年 runs from 1 September 2026 (policy
`school_year_start_month`) to 31 August 2027. An appointment of a class's 班主任, 副班主任 or 轮值班主任 points at the
service period it wrote through the people package (`backend.people.records.save_period`): the title review, the
honour list and the annual rules read service periods, so the fact is entered once, here.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.kit.models import Base


class SchoolYearStage(Base):
    """A school's stage (学段) in one school year: schools change stage (a 完中 splits, a 九年一贯制 is formed)."""

    __tablename__ = "org_school_years"
    __table_args__ = (UniqueConstraint("school_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    year: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))  # primary | middle | high | nine_year | complete


class SchoolClass(Base):
    """One class (班级) of a school in one school year; the number of classes is the number of these rows."""

    __tablename__ = "org_classes"
    __table_args__ = (UniqueConstraint("school_id", "year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))  # e.g. 三年级（2）班
    grade: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime]


class Appointment(Base):
    """A teacher's appointment to a class as 班主任 (homeroom), 副班主任 (deputy) or 轮值班主任 (rotating)."""

    __tablename__ = "org_appointments"
    __table_args__ = (Index("ix_org_appointments_class_role", "class_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("org_classes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # homeroom | deputy | rotating (= the service period's kind)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    # The service period this appointment wrote; SET NULL if someone deletes the period on the teacher record.
    service_period_id: Mapped[int | None] = mapped_column(ForeignKey("service_periods.id", ondelete="SET NULL"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class TierChange(Base):
    """A teacher's tier (地平线—指南针—攀登者—满天星) from a day on, set by the district; the latest is current."""

    __tablename__ = "org_tier_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    effective: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Workshop(Base):
    """A 班主任工作室 at city, district, school or joint (联合, several schools) level."""

    __tablename__ = "org_workshops"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))  # city | district | school | joint
    stage: Mapped[str] = mapped_column(String(16))  # primary | middle | high | nine_year | complete | all
    # A school workshop's school; a joint workshop's lead school; None for city and district workshops.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # 主持人
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class WorkshopSchool(Base):
    """A member school of a joint workshop (the lead school is one of them)."""

    __tablename__ = "org_workshop_schools"

    workshop_id: Mapped[int] = mapped_column(ForeignKey("org_workshops.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), primary_key=True, index=True)


class WorkshopMember(Base):
    """A teacher's term in a workshop, with a role; a teacher may belong to several workshops."""

    __tablename__ = "org_workshop_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("org_workshops.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # host | deputy | member
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)


class WorkshopActivity(Base):
    """An activity of a workshop: an offline session of the training package (its QR check-in and attendance feed
    the ledger), or an exchange visit (互学互访) with a workshop outside the district, named in `partner`."""

    __tablename__ = "org_workshop_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("org_workshops.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # session | exchange
    partner: Mapped[str] = mapped_column(String(200), default="")


class Mentorship(Base):
    """A mentor–mentee pair (带教 / 跟岗指导, the plan's 二(一)2 and 二(三)1) for a period, with goals; the mentor's
    sign-off closes it and writes both people's hours to the ledger."""

    __tablename__ = "org_mentorships"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    mentee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)  # the mentee's school
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    goals: Mapped[str] = mapped_column(String(1000), default="")
    signed_off_at: Mapped[datetime | None]
    sign_off_note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class MentoringMeeting(Base):
    """One entry of a pair's meeting log (跟岗记录)."""

    __tablename__ = "org_mentoring_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    mentorship_id: Mapped[int] = mapped_column(ForeignKey("org_mentorships.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class PoolMember(Base):
    """A teacher in the district's reserve pool of homeroom teachers (班主任储备池, the plan's 二(一)1), nominated by
    their school. `status` follows the latest review: reserve (继续储备) → ready (可聘任) or left (退出)."""

    __tablename__ = "org_pool_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)  # the nominating school
    since: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="reserve")  # reserve | ready | left
    left_on: Mapped[date | None] = mapped_column(Date)
    nominated_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class PoolReview(Base):
    """A periodic review (定期更新) of a pool member by the district: outcome, reviewer, day and note."""

    __tablename__ = "org_pool_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("org_pool_members.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16))  # keep (继续储备) | ready (可聘任) | exit (退出)
    note: Mapped[str] = mapped_column(String(1000), default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class LearningAssignment(Base):
    """A course assigned (必修) to a group with a deadline: a tier, the reserve pool, the trainees, a workshop's
    members, a school, or a list of teachers. A school admin's assignment (`school_id` set) reaches only the
    group's people of that school."""

    __tablename__ = "org_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    group_kind: Mapped[str] = mapped_column(String(16))  # tier | pool | trainees | workshop | school | list
    group_value: Mapped[str] = mapped_column(String(32), default="")  # the tier code, workshop id or school id
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    due: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class AssignmentPerson(Base):
    """A teacher named on an assignment's list (uploaded from Excel)."""

    __tablename__ = "org_assignment_people"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("org_assignments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class WorkshopOutput(Base):
    """A workshop output (成果: a case, a 主题班会 design, a video, a paper) submitted by a member with its file, which
    came through the media upload pipeline (`backend.media.uploads.claim_upload`): the stored object is this row's.

        pending ──accept (host)──▶ accepted ──promote (host)──▶ accepted, with a draft course in the studio
           └──return with a reason (host)──▶ returned (the member reads the reason; a new submission starts over)
    """

    __tablename__ = "org_workshop_outputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("org_workshops.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # case | meeting_design | video | paper
    summary: Mapped[str] = mapped_column(String(2000), default="")
    # The file, as `StoredMedia` describes it (video: MP4/WebM with its duration and poster; document: PDF).
    media_key: Mapped[str] = mapped_column(String(1024))
    media_type: Mapped[str] = mapped_column(String(100))
    media_kind: Mapped[str] = mapped_column(String(16))  # video | document
    media_name: Mapped[str] = mapped_column(String(255), default="")
    media_size: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    poster_key: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | accepted | returned
    review_reason: Mapped[str] = mapped_column(String(500), default="")
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))  # promoted draft
    promoted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    promoted_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class IndicatorSet(Base):
    """A version of the district's workshop evaluation indicators (研制评估指标). A draft is edited; a published
    version never changes again: a change is a new version (a copy, as a draft)."""

    __tablename__ = "org_indicator_sets"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | published
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]


class Indicator(Base):
    """One indicator of a set: a name, a maximum score and, optionally, the figure the portal fills in itself."""

    __tablename__ = "org_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("org_indicator_sets.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    max_score: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    # activities | attendance | certified_hours | outputs_accepted, or "" (scored only)
    figure: Mapped[str] = mapped_column(String(32), default="")


class WorkshopEvaluation(Base):
    """A workshop's evaluation for one year against one published indicator set: the host's self-assessment
    (submitted once) and the district reviewers' scores."""

    __tablename__ = "org_evaluations"
    __table_args__ = (UniqueConstraint("workshop_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("org_workshops.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("org_indicator_sets.id"))
    year: Mapped[int] = mapped_column(Integer)  # calendar year, as the hours (`backend.credits.hours`) count it
    self_submitted_at: Mapped[datetime | None]
    self_submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class EvaluationScore(Base):
    """A score of one indicator: the host's self-assessment (`by_role` self) or a district reviewer's (district).
    `figure` keeps the portal's figure as it stood when the score was given."""

    __tablename__ = "org_eval_scores"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "indicator_id", "by_role", "scorer_id", name="uq_org_eval_scores_scorer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("org_evaluations.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("org_indicators.id"))
    by_role: Mapped[str] = mapped_column(String(16))  # self | district
    scorer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    figure: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
