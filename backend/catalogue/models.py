"""Courses, their versions and lessons.

A course is identified by `code`; each change to a course that teachers have started makes a new `version`
row, so nobody's course changes underneath them. The catalogue shows the newest published version of each code.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.kit.models import Base


class Course(Base):
    __tablename__ = "courses"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    description_md: Mapped[str] = mapped_column(Text, default="")
    tier: Mapped[str] = mapped_column(String(16), index=True)
    credit_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    credit_category: Mapped[str] = mapped_column(String(32), default="knowledge_skills")
    # draft → submitted (审核中) → published → archived; a submitted course sent back returns to draft.
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    # Set when a newer published version replaces this one in the catalogue; enrolled teachers keep using it.
    superseded_at: Mapped[datetime | None]
    source_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # Studio: the cover image's storage key, and whether the course code may still be changed (once, while a draft).
    cover_key: Mapped[str | None] = mapped_column(String(255))
    code_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Issue 16: the code of a course a teacher completes first (any version of it); learning enforces it.
    prerequisite_code: Mapped[str | None] = mapped_column(String(32))

    topics: Mapped[list[CourseTopic]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="CourseTopic.topic"
    )
    lessons: Mapped[list[Lesson]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Lesson.position"
    )

    @property
    def topic_codes(self) -> list[str]:
        return [t.topic for t in self.topics]


class CourseTopic(Base):
    __tablename__ = "course_topics"

    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # video | document (PDF) | text
    title: Mapped[str] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, default="")
    media_key: Mapped[str | None] = mapped_column(String(255))
    media_type: Mapped[str | None] = mapped_column(String(64))
    # Read from the media file by probing it, never from a client or a metadata file.
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)  # documents: page count, read from the PDF
    poster_key: Mapped[str | None] = mapped_column(String(255))  # videos: a frame as an image, when made


class CourseOwner(Base):
    """Trainers who may edit a course code (all its versions): its owner and co-owners."""

    __tablename__ = "course_owners"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="owner")  # owner | co_owner


class CourseReview(Base):
    """One step of a course version through review: who moved it, when, from which status to which, and why.

    Append-only; the newest "submitted → draft" row of a draft holds the reviewer's comments its owners see.
    """

    __tablename__ = "course_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Publishing only: None when learners kept their version, else how many unfinished learners were moved to it.
    learners_moved: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
