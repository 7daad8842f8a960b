"""What the quizzes announce. Learning decides when a course is complete (learning/service.py listens); quizzes only
say that a learner's result in a course has changed, and never import learning."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.kit.hooks import Hook

# (session, course_id, user_id): an attempt passed, or an attempt or a submission was graded.
result_changed: Hook[[Session, int, int]] = Hook("quizzes.result_changed")
