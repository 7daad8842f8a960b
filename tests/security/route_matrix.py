"""Who may call what: every route of the application, by hand, with the roles that must get through.

Stated from the roles in DOMAIN.md (and the issues), not read off the code: a teacher sees their own learning and
records; a trainer edits the courses they own and grades their work; a school admin manages their own school's
teachers, sessions and hours; the district admin runs the catalogue, certifies hours and sees the whole district.

The actors (tests/security/world.py): `teacher` is the teacher of school B who owns the world's learning records
(enrollment, attempt, submission, ledger entry, external record, certificate); `other_teacher` teaches at school A;
`trainer` owns the world's courses and `other_trainer` owns none; `school_admin_own` is school B's admin and
`school_admin` is school A's admin acting on school B's records; `district_admin`; and `anonymous`.

A route's path parameters are filled with the world's record of that name (PATH_VALUES); `params` points a route at
another record (the draft course in the studio, say). `form`/`json` is a body good enough to reach the decision
where a route checks the actor only after reading its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.security.world import ROLES


@dataclass(frozen=True)
class Expect:
    allowed: frozenset[str]
    params: dict[str, str] = field(default_factory=dict)  # path parameter -> the world's record to use
    form: dict[str, Any] | None = None
    cookies: dict[str, str] = field(default_factory=dict)  # besides the actor's session and CSRF cookies
    json: Any = None
    # Statuses that mean "refused" for this route besides 401/403/404 and the login redirect, with the reason.
    refused_as: frozenset[int] = frozenset()
    # Statuses an allowed actor may get besides the usual ones (a 404 where the world has nothing to show).
    allowed_as: frozenset[int] = frozenset()
    note: str = ""

    def body(self, ids: dict[str, object]) -> dict[str, Any]:
        """The request's keyword arguments besides method and URL: the body and extra cookies, filled in."""
        sent: dict[str, Any] = {}
        if self.form is not None:
            sent["data"] = filled(self.form, ids)
        if self.json is not None:
            sent["json"] = filled(self.json, ids)
        if self.cookies:
            sent["cookies"] = filled(self.cookies, ids)
        return sent

    def but(self, **changes: Any) -> Expect:
        values = {**self.__dict__, **changes}
        for name in ("refused_as", "allowed_as"):
            values[name] = frozenset(values[name])
        return Expect(**values)


def filled(value: Any, ids: dict[str, object]) -> Any:
    """Body templates name the world's records as "{name}"; one standing alone is the record's id itself (a JSON
    number where the id is a number: bodies are strictly typed)."""
    if isinstance(value, str):
        alone = value[1:-1] if value.startswith("{") and value.endswith("}") else None
        return ids[alone] if alone in ids and isinstance(ids[alone], int) else value.format(**ids)
    if isinstance(value, dict):
        return {k: filled(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, ids) for v in value]
    return value


def Allow(*roles: str | frozenset[str], **kw: Any) -> Expect:  # noqa: N802 - reads as a constructor in the table
    allowed: set[str] = set()
    for role in roles:
        allowed |= {role} if isinstance(role, str) else set(role)
    unknown = allowed - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return Expect(frozenset(allowed), **kw)


# --- presets -------------------------------------------------------------------------------------------------------
EVERYONE = frozenset(ROLES)
USERS = EVERYONE - {"anonymous"}
ADMINS = frozenset({"school_admin_own", "school_admin", "district_admin"})  # pages without a record of a school
AUTHORS = frozenset({"trainer", "other_trainer", "district_admin"})  # the studio: trainers and the district
STAFF = AUTHORS | ADMINS  # who may schedule offline sessions

PUBLIC = Allow(EVERYONE)
ANY_USER = Allow(USERS)
TEACHER_SELF = Allow("teacher")  # the teacher's own learning: nobody else acts as the learner
SELF_OR_ADMINS = Allow("teacher", "school_admin_own", "district_admin")  # own records, and their school's admins
TRAINER_OWNER = Allow("trainer", "district_admin")  # the course's owner; the district runs the whole catalogue
UPLOADER = Allow("trainer")  # an upload is its uploader's until a lesson claims it
SCHOOL_SCOPED = Allow("school_admin_own", "district_admin")  # a record of school B
DISTRICT_ONLY = Allow("district_admin")
NOBODY = Allow()

# The studio works on the trainer's draft course (a published one cannot be edited, only versioned).
DRAFT = {"course_id": "draft_course_id", "lesson_id": "draft_lesson_id"}
STUDIO = TRAINER_OWNER.but(params=DRAFT)
STUDIO_REVIEW = DISTRICT_ONLY.but(params=DRAFT)
# Attaching an upload: the district admin may edit the course but attaches only its own uploads (the trainer's: 404).
OWN_UPLOAD = Allow("trainer", params=DRAFT)
SCOPE_FIELD_ERROR = frozenset({422})  # refused as "no such teacher in your scope" on the form field

MATRIX: dict[tuple[str, str], Expect] = {
    # --- public: signing in, the language, health, the API description, certificate checks ------------------------
    ("GET", "/"): PUBLIC.but(note="a hub: anonymous to /login, users to their home page"),
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/lang"): PUBLIC,
    ("GET", "/login/2fa"): NOBODY.but(note="only a half-way sign-in gets it: tests/accounts/test_two_factor.py"),
    ("POST", "/login/2fa"): NOBODY.but(note="only a half-way sign-in gets it: tests/accounts/test_two_factor.py"),
    ("POST", "/sso/login"): PUBLIC.but(allowed_as={404}, note="SSO is off in this world (404 for all): test_sso.py"),
    ("GET", "/sso/callback"): PUBLIC.but(allowed_as={404}, note="SSO is off in this world: test_sso.py"),
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): NOBODY.but(note="no role opens it: the operator's network or METRICS_TOKEN, "
                                         "tests/kit/test_metrics.py"),
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    ("GET", "/verify/{number}"): PUBLIC.but(note="the public check shows a masked name only"),
    ("GET", "/training/c/{code}"): PUBLIC.but(note="the scanned code leads to the check-in page, which needs a login"),
    # --- every signed-in user: own account, the catalogue, own learning and hours ------------------------------------
    ("GET", "/account"): ANY_USER,
    ("GET", "/notices"): ANY_USER.but(note="one's own notices only"),
    ("GET", "/account/2fa"): ANY_USER,
    ("POST", "/account/2fa"): ANY_USER,
    ("POST", "/account/2fa/disable"): ANY_USER,
    ("POST", "/account/logout-everywhere"): ANY_USER,
    ("POST", "/account/tokens/{personal_token_id}/revoke"): Allow("teacher", note="the teacher's own token only"),
    ("GET", "/account/password"): ANY_USER,
    ("POST", "/account/password"): ANY_USER,
    ("GET", "/api/v1/me"): ANY_USER,
    ("GET", "/api/v1/me/learning"): ANY_USER,
    ("GET", "/learning"): ANY_USER,
    ("GET", "/courses"): ANY_USER,
    ("GET", "/courses/{course_id}"): ANY_USER,
    ("GET", "/courses/{course_id}/cover"): ANY_USER,
    ("GET", "/courses/{course_id}/assignments"): ANY_USER,
    ("GET", "/assignments/{assignment_id}"): ANY_USER,
    ("POST", "/courses/{course_id}/enroll"): ANY_USER,
    ("GET", "/api/v1/courses"): ANY_USER,
    ("GET", "/api/v1/courses/{course_id}"): ANY_USER,
    ("POST", "/api/v1/courses/{course_id}/enrollment"): ANY_USER,
    ("GET", "/credits/mine"): ANY_USER,
    ("GET", "/credits/external/new"): ANY_USER,
    ("POST", "/credits/external"): ANY_USER,
    ("GET", "/certificates"): ANY_USER,
    ("POST", "/certificates/courses/{course_id}"): ANY_USER.but(note="each for themselves: 409 until completed"),
    ("POST", "/certificates/induction"): ANY_USER.but(note="each for themselves: 409 until complete"),
    ("GET", "/uploads/{upload_id}/poster"): ANY_USER.but(
        params={"upload_id": "ready_upload_id"}, note="posters and covers are not secret"
    ),
    ("GET", "/training/sessions/{session_id}/checkin"): ANY_USER.but(note="the page says who may check in"),
    # --- the learner's own: enrolled in the course, owner of the attempt, playback, submission ---------------------
    ("GET", "/lessons/{lesson_id}"): ANY_USER.but(note="not enrolled: sent to the course page to enrol"),
    ("GET", "/lessons/{lesson_id}/video"): TEACHER_SELF,
    ("GET", "/lessons/{lesson_id}/document"): TEACHER_SELF.but(params={"lesson_id": "document_lesson_id"}),
    ("GET", "/courses/{course_id}/quiz"): ANY_USER.but(note="not enrolled: sent to the course page to enrol"),
    ("POST", "/courses/{course_id}/quiz"): TEACHER_SELF,
    ("POST", "/courses/{course_id}/quiz/start"): TEACHER_SELF,
    ("GET", "/quiz/attempts/{attempt_id}"): TEACHER_SELF,
    ("POST", "/quiz/attempts/{attempt_id}/answers"): TEACHER_SELF,
    ("POST", "/quiz/attempts/{attempt_id}/submit"): TEACHER_SELF,
    ("POST", "/assignments/{assignment_id}/submissions"): TEACHER_SELF.but(form={"text": "我的方案"}),
    ("GET", "/assignments/submissions/{submission_id}/file"): Allow("teacher", "trainer", "district_admin"),
    ("GET", "/api/v1/courses/{course_id}/quiz"): TEACHER_SELF,
    ("POST", "/api/v1/courses/{course_id}/quiz/start"): TEACHER_SELF,
    ("POST", "/api/v1/courses/{course_id}/quiz/attempts"): TEACHER_SELF.but(json={"answers": {}}),
    ("GET", "/api/v1/quiz/attempts/{attempt_id}"): TEACHER_SELF,
    ("PUT", "/api/v1/quiz/attempts/{attempt_id}/answers"): TEACHER_SELF.but(json={"answers": {}}),
    ("POST", "/api/v1/quiz/attempts/{attempt_id}/submit"): TEACHER_SELF.but(json={"answers": {}}),
    ("POST", "/api/v1/lessons/{lesson_id}/playbacks"): TEACHER_SELF.but(json={"position_ms": 0}),
    ("POST", "/api/v1/playbacks/{playback_id}/close"): TEACHER_SELF,
    ("POST", "/api/v1/playbacks/{playback_id}/prompts/{prompt_id}"): TEACHER_SELF,
    ("POST", "/api/v1/playbacks/{playback_id}/heartbeats"): TEACHER_SELF.but(
        allowed_as={422},
        refused_as={422},
        note="answered by the heartbeat lane on its own connections, which cannot see this module's uncommitted "
        "world (here: no 5xx); its checks are tested on committed rows in tests/learning/test_hotpath.py "
        "(test_another_teacher_cannot_send_heartbeats_for_my_playback) and test_hotpath_sessions.py",
    ),
    ("POST", "/training/sessions/{session_id}/checkin"): Allow("teacher", "school_admin_own").but(
        cookies={"portal_checkin": "{scan_proof}"},
        note="a school-based session of school B: its people check in (its admin is on its staff too)",
    ),
    # --- certificates: own, and the admins of the holder's school --------------------------------------------------
    ("GET", "/certificates/{number}.pdf"): SELF_OR_ADMINS,
    ("GET", "/credits/external/{record_id}/evidence"): SELF_OR_ADMINS,
    ("GET", "/credits/external/{record_id}/edit"): TEACHER_SELF.but(
        allowed_as={409}, note="only the teacher changes her record; the world's is pending, not sent back (409)"
    ),
    ("POST", "/credits/external/{record_id}/resubmit"): TEACHER_SELF.but(
        allowed_as={409}, note="only the teacher resubmits her record; the world's is pending, not sent back (409)"
    ),
    # --- the studio: authors; a course's owners and the district -----------------------------------------------------
    ("GET", "/studio"): Allow(AUTHORS),
    ("GET", "/studio/courses/new"): Allow(AUTHORS),
    ("POST", "/studio/courses"): Allow(AUTHORS),
    ("GET", "/studio/uploads/new"): Allow(AUTHORS),
    ("GET", "/studio/banks"): Allow(AUTHORS),
    ("GET", "/studio/banks/template.xlsx"): Allow(AUTHORS),
    ("POST", "/studio/banks"): TRAINER_OWNER.but(
        form={"title": "新题库", "topic": "norms", "course_code": "{draft_code}"},
        note="a bank of a course: its owners (other trainers may not attach banks to it)",
    ),
    ("GET", "/studio/banks/{bank_id}"): TRAINER_OWNER,
    ("POST", "/studio/banks/{bank_id}/questions"): TRAINER_OWNER,
    ("POST", "/studio/banks/{bank_id}/questions/{question_id}/delete"): TRAINER_OWNER.but(
        params={"question_id": "bank_question_id"}
    ),
    ("POST", "/studio/banks/{bank_id}/import"): TRAINER_OWNER,
    ("GET", "/studio/courses/{course_id}"): STUDIO,
    ("POST", "/studio/courses/{course_id}"): STUDIO,
    ("GET", "/studio/courses/{course_id}/preview"): STUDIO,
    ("GET", "/studio/courses/{course_id}/export"): STUDIO,
    ("POST", "/studio/courses/{course_id}/code"): STUDIO,
    ("POST", "/studio/courses/{course_id}/cover"): STUDIO,
    ("POST", "/studio/courses/{course_id}/lessons"): STUDIO,
    ("POST", "/studio/courses/{course_id}/owners"): STUDIO,
    ("POST", "/studio/courses/{course_id}/owners/{owner_id}/delete"): STUDIO,
    ("POST", "/studio/courses/{course_id}/submit"): STUDIO,
    ("POST", "/studio/courses/{course_id}/withdraw"): STUDIO,
    ("POST", "/studio/courses/{course_id}/new-version"): TRAINER_OWNER,
    ("POST", "/studio/lessons/{lesson_id}"): STUDIO,
    ("POST", "/studio/lessons/{lesson_id}/move"): STUDIO,
    ("POST", "/studio/lessons/{lesson_id}/delete"): STUDIO,
    ("POST", "/studio/lessons/{lesson_id}/media"): STUDIO,
    ("GET", "/studio/lessons/{lesson_id}/media"): TRAINER_OWNER,
    ("GET", "/studio/courses/{course_id}/quiz"): STUDIO,
    ("POST", "/studio/courses/{course_id}/quiz"): STUDIO,
    ("POST", "/studio/courses/{course_id}/quiz/questions"): STUDIO,
    ("POST", "/studio/courses/{course_id}/quiz/questions/{question_id}/delete"): STUDIO.but(
        params={**DRAFT, "question_id": "draft_question_id"}
    ),
    ("GET", "/studio/courses/{course_id}/quiz/questions/{question_id}/edit"): STUDIO.but(
        params={**DRAFT, "question_id": "draft_question_id"}
    ),
    ("POST", "/studio/courses/{course_id}/quiz/questions/{question_id}"): STUDIO.but(
        params={**DRAFT, "question_id": "draft_question_id"},
        form={"kind": "single", "prompt": "改过的题目", "options": "甲\n乙", "answer": "A", "points": "1"},
    ),
    ("POST", "/studio/courses/{course_id}/quiz/draws"): STUDIO,
    ("POST", "/studio/courses/{course_id}/quiz/draws/{rule_id}/delete"): STUDIO,
    ("POST", "/studio/courses/{course_id}/quiz/extensions"): TRAINER_OWNER,
    ("GET", "/studio/courses/{course_id}/assignments"): TRAINER_OWNER,
    ("POST", "/studio/courses/{course_id}/assignments"): TRAINER_OWNER,
    ("GET", "/studio/assignments/{assignment_id}"): TRAINER_OWNER,
    ("POST", "/studio/assignments/{assignment_id}"): TRAINER_OWNER,
    ("GET", "/studio/courses/{course_id}/analytics"): TRAINER_OWNER,
    ("GET", "/studio/courses/{course_id}/analytics.xlsx"): TRAINER_OWNER,
    # Review is the district's: publishing, sending back and archiving.
    ("GET", "/studio/review"): DISTRICT_ONLY,
    ("POST", "/studio/courses/{course_id}/publish"): STUDIO_REVIEW,
    ("POST", "/studio/courses/{course_id}/send-back"): STUDIO_REVIEW,
    ("POST", "/studio/courses/{course_id}/archive"): DISTRICT_ONLY,
    # The studio API: the same rules as its pages.
    ("GET", "/api/v1/studio/courses"): Allow(AUTHORS),
    ("POST", "/api/v1/studio/courses"): Allow(AUTHORS),
    ("GET", "/api/v1/studio/courses/{course_id}"): STUDIO,
    ("PATCH", "/api/v1/studio/courses/{course_id}"): STUDIO.but(json={"title": "新标题"}),
    ("POST", "/api/v1/studio/courses/{course_id}/lessons"): STUDIO.but(json={"kind": "text", "title": "新的一讲"}),
    ("POST", "/api/v1/studio/courses/{course_id}/cover"): OWN_UPLOAD.but(json={"upload_id": "{ready_upload_id}"}),
    ("POST", "/api/v1/studio/courses/{course_id}/owners"): STUDIO.but(json={"username": "nobody-here"}),
    ("POST", "/api/v1/studio/courses/{course_id}/submit"): STUDIO,
    ("POST", "/api/v1/studio/courses/{course_id}/withdraw"): STUDIO,
    ("POST", "/api/v1/studio/courses/{course_id}/new-version"): TRAINER_OWNER,
    ("PATCH", "/api/v1/studio/lessons/{lesson_id}"): STUDIO.but(json={"title": "新的一讲"}),
    ("DELETE", "/api/v1/studio/lessons/{lesson_id}"): STUDIO,
    ("POST", "/api/v1/studio/lessons/{lesson_id}/move"): STUDIO.but(json={"direction": "down"}),
    ("POST", "/api/v1/studio/lessons/{lesson_id}/media"): OWN_UPLOAD.but(json={"upload_id": "{ready_upload_id}"}),
    ("GET", "/api/v1/studio/review"): DISTRICT_ONLY,
    ("POST", "/api/v1/studio/courses/{course_id}/publish"): STUDIO_REVIEW.but(json={"comment": ""}),
    ("POST", "/api/v1/studio/courses/{course_id}/send-back"): STUDIO_REVIEW.but(json={"comment": "请补充"}),
    ("POST", "/api/v1/studio/courses/{course_id}/archive"): DISTRICT_ONLY.but(json={"comment": ""}),
    ("POST", "/api/v1/courses/{course_id}/quiz/extensions"): TRAINER_OWNER.but(
        json={"user_id": "{teacher_id}", "minutes": 10}
    ),
    # Uploads: only their uploader sees or continues them.
    # Authors upload lesson media; an active workshop member (the world's teacher, of school B's workshop) uploads
    # outputs.
    ("POST", "/api/v1/uploads"): Allow(AUTHORS, "teacher"),
    ("GET", "/api/v1/uploads/{upload_id}"): UPLOADER,
    ("PUT", "/api/v1/uploads/{upload_id}/chunks/{index}"): UPLOADER,
    ("POST", "/api/v1/uploads/{upload_id}/complete"): UPLOADER,
    ("DELETE", "/api/v1/uploads/{upload_id}"): UPLOADER,
    # Grading: the course's owners and the district.
    ("GET", "/grading"): Allow(AUTHORS),
    ("GET", "/grading/attempts/{attempt_id}"): TRAINER_OWNER,
    ("POST", "/grading/attempts/{attempt_id}"): TRAINER_OWNER,
    ("GET", "/grading/submissions/{submission_id}"): TRAINER_OWNER,
    ("POST", "/grading/submissions/{submission_id}"): TRAINER_OWNER,
    # --- offline sessions: staff schedule; a session is run by its school's admins, its creator and the district --
    ("GET", "/training"): Allow(STAFF),
    ("GET", "/training/new"): Allow(STAFF),
    ("POST", "/training"): Allow(STAFF),
    ("GET", "/training/compliance"): Allow(ADMINS),
    ("GET", "/training/sessions/{session_id}"): SCHOOL_SCOPED,
    ("GET", "/training/sessions/{session_id}/qr"): SCHOOL_SCOPED,
    ("POST", "/training/sessions/{session_id}/attendance"): SCHOOL_SCOPED,
    ("POST", "/training/sessions/{session_id}/cancel"): SCHOOL_SCOPED.but(form={"reason": "场地临时不可用"}),
    # --- hours: admins of the teacher's school verify, the district certifies -----------------------------------------
    ("GET", "/admin/hours"): Allow(ADMINS),
    ("GET", "/admin/hours/{entry_id}/evidence"): SCHOOL_SCOPED,
    ("GET", "/credits/queue"): Allow(ADMINS),
    ("POST", "/credits/queue"): SCHOOL_SCOPED.but(
        form={"entry": "{entry_id}", "action": "reject", "reason": "证明不全"},
        note="school A's admin verifying school B's entry",
    ),
    ("GET", "/credits/entries/{entry_id}"): SCHOOL_SCOPED,
    ("POST", "/credits/entries/{entry_id}/reverse"): DISTRICT_ONLY,
    ("GET", "/credits/teachers/{teacher_id}"): SCHOOL_SCOPED,
    ("GET", "/admin/certificates"): Allow(ADMINS),
    ("POST", "/admin/certificates/year"): SCHOOL_SCOPED.but(
        form={"username": "{teacher_username}", "year": "2026"}, refused_as=SCOPE_FIELD_ERROR
    ),
    ("GET", "/admin/certificates/{number}"): SCHOOL_SCOPED,
    ("POST", "/admin/certificates/{number}/revoke"): DISTRICT_ONLY,
    # --- teacher records and title review: the teacher's school, and the district ------------------------------------
    ("GET", "/admin/teachers"): Allow(ADMINS),
    ("GET", "/admin/teachers/template.xlsx"): Allow(ADMINS),
    ("GET", "/admin/teachers/import"): Allow(ADMINS),
    ("POST", "/admin/teachers/import"): Allow(ADMINS),
    ("GET", "/admin/teachers/{teacher_id}"): SCHOOL_SCOPED,
    ("POST", "/admin/teachers/{teacher_id}/profile"): SCHOOL_SCOPED,
    ("POST", "/admin/teachers/{teacher_id}/periods"): SCHOOL_SCOPED,
    ("POST", "/admin/teachers/{teacher_id}/periods/{period_id}"): SCHOOL_SCOPED,
    ("POST", "/admin/teachers/{teacher_id}/periods/{period_id}/delete"): SCHOOL_SCOPED,
    ("POST", "/admin/teachers/{teacher_id}/evaluations"): SCHOOL_SCOPED,
    ("POST", "/admin/teachers/{teacher_id}/evaluations/{year}/delete"): SCHOOL_SCOPED,
    # Declined appointment (plan 二(一)1): recorded and withdrawn by the teacher's school and the district only.
    ("POST", "/admin/teachers/{teacher_id}/declined"): SCHOOL_SCOPED.but(form={"year": "2026", "reason": "矩阵"}),
    ("POST", "/admin/teachers/{teacher_id}/declined/{declined_id}/withdraw"): SCHOOL_SCOPED.but(
        form={"withdraw_reason": "矩阵"}
    ),
    ("GET", "/api/v1/people/teachers/{teacher_id}/declined-appointments"): SCHOOL_SCOPED,
    ("POST", "/api/v1/people/teachers/{teacher_id}/declined-appointments"): SCHOOL_SCOPED.but(
        json={"year": 2026, "reason": "接口"}
    ),
    ("POST", "/api/v1/people/declined-appointments/{declined_id}/withdraw"): SCHOOL_SCOPED.but(json={"reason": "接口"}),
    ("GET", "/admin/title-review"): Allow(ADMINS),
    ("GET", "/admin/title-review/export.xlsx"): Allow(ADMINS),
    # Dashboards (issue 17): a school admin's /dashboard is their own school's; an export job is its requester's.
    ("GET", "/dashboard"): Allow(ADMINS),
    ("GET", "/dashboard/schools/{school_id}"): SCHOOL_SCOPED.but(params={"school_id": "school_b_id"}),
    ("GET", "/dashboard/export.xlsx"): Allow(ADMINS),
    ("POST", "/dashboard/teachers-export"): Allow(ADMINS, form={"year": "2026"}),
    ("GET", "/dashboard/jobs/{job_id}"): Allow("district_admin"),
    ("GET", "/dashboard/jobs/{job_id}/download"): Allow("district_admin"),
    ("GET", "/admin/title-review/{teacher_id}"): SCHOOL_SCOPED,
    # --- accounts: school admins for their school's users; roles, tokens, policy and audit are the district's --------
    ("GET", "/admin/users"): Allow(ADMINS),
    ("GET", "/admin/users/{user_id}"): SCHOOL_SCOPED,
    ("POST", "/admin/users/{user_id}/password-reset"): SCHOOL_SCOPED,
    ("POST", "/admin/users/{user_id}/role"): DISTRICT_ONLY,
    ("POST", "/admin/users/{user_id}/sso-link"): DISTRICT_ONLY.but(form={"subject": "idp-matrix"}),
    ("POST", "/admin/users/{user_id}/tokens/{personal_token_id}/revoke"): SCHOOL_SCOPED,
    ("GET", "/admin/tokens"): DISTRICT_ONLY,
    ("POST", "/admin/tokens"): DISTRICT_ONLY,
    ("POST", "/admin/tokens/{token_id}/revoke"): DISTRICT_ONLY,
    ("GET", "/admin/policy"): DISTRICT_ONLY,
    ("POST", "/admin/policy"): DISTRICT_ONLY,
    ("GET", "/admin/audit"): DISTRICT_ONLY,
    # --- the homeroom organisation (issue 16): a school's classes and workshops are its admins' and the district's; ---
    # --- tiers are set by the district; a workshop's host (the trainer) sees it and runs its activities -------------
    ("GET", "/organisation/classes"): Allow(ADMINS),
    ("POST", "/organisation/stage"): Allow(ADMINS).but(form={"stage": "primary", "year": "2026"}),
    ("POST", "/organisation/classes"): Allow(ADMINS).but(form={"name": "矩阵班", "year": "2026"}),
    ("POST", "/organisation/classes/{class_id}/appointments"): SCHOOL_SCOPED.but(
        form={"teacher": "{teacher_id}", "role": "deputy", "start": "2026-09-01"}
    ),
    ("POST", "/organisation/appointments/{appointment_id}/end"): SCHOOL_SCOPED.but(form={"end": "2026-12-31"}),
    ("GET", "/organisation/classes/template.xlsx"): Allow(ADMINS),
    ("GET", "/organisation/classes/import"): Allow(ADMINS),
    ("POST", "/organisation/classes/import"): Allow(ADMINS),
    ("POST", "/organisation/teachers/{teacher_id}/tier"): DISTRICT_ONLY.but(form={"tier": "horizon"}),
    ("GET", "/organisation/workshops"): Allow(STAFF),
    ("POST", "/organisation/workshops"): Allow(ADMINS).but(
        form={"name": "矩阵工作室", "level": "school", "stage": "primary"}
    ),
    ("GET", "/organisation/workshops/{workshop_id}"): Allow("school_admin_own", "district_admin", "trainer"),
    ("POST", "/organisation/workshops/{workshop_id}/members"): SCHOOL_SCOPED.but(form={"teacher": "{teacher_id}"}),
    ("POST", "/organisation/workshop-members/{member_id}/end"): SCHOOL_SCOPED.but(form={"end": "2026-12-31"}),
    ("POST", "/organisation/workshops/{workshop_id}/activities"): Allow(
        "school_admin_own", "district_admin", "trainer", form={"title": "矩阵活动"}
    ),
    ("GET", "/organisation/compliance"): Allow(ADMINS),
    ("GET", "/api/v1/organisation/schools/{school_code}/classes"): SCHOOL_SCOPED,
    ("POST", "/api/v1/organisation/schools/{school_code}/classes"): SCHOOL_SCOPED.but(
        json={"year": 2026, "name": "接口班"}
    ),
    ("PUT", "/api/v1/organisation/schools/{school_code}/stage"): SCHOOL_SCOPED.but(
        json={"year": 2026, "stage": "primary"}
    ),
    ("POST", "/api/v1/organisation/classes/{class_id}/appointments"): SCHOOL_SCOPED.but(
        json={"teacher_id": "{teacher_id}", "role": "rotating", "start": "2026-09-01"}
    ),
    ("POST", "/api/v1/organisation/appointments/{appointment_id}/end"): SCHOOL_SCOPED.but(json={"end": "2026-12-31"}),
    ("GET", "/api/v1/organisation/teachers/{teacher_id}/tiers"): SCHOOL_SCOPED,
    ("POST", "/api/v1/organisation/teachers/{teacher_id}/tiers"): DISTRICT_ONLY.but(json={"tier": "compass"}),
    ("GET", "/api/v1/organisation/workshops"): Allow(STAFF),
    ("POST", "/api/v1/organisation/workshops"): Allow(ADMINS).but(
        json={"name": "接口工作室", "level": "school", "stage": "primary"}
    ),
    ("GET", "/api/v1/organisation/workshops/{workshop_id}"): Allow("school_admin_own", "district_admin", "trainer"),
    ("POST", "/api/v1/organisation/workshops/{workshop_id}/members"): SCHOOL_SCOPED.but(
        json={"teacher_id": "{teacher_id}", "role": "deputy", "start": "2027-01-01"}
    ),
    ("POST", "/api/v1/organisation/workshop-members/{member_id}/end"): SCHOOL_SCOPED.but(json={"end": "2026-12-31"}),
    ("POST", "/api/v1/organisation/workshops/{workshop_id}/activities"): Allow(
        "school_admin_own", "district_admin", "trainer",
        json={"title": "接口活动", "day": "2026-11-02", "start_time": "09:00", "end_time": "10:00"},
    ),
    ("GET", "/api/v1/organisation/compliance"): Allow(ADMINS),
    # Mentoring: the pair of school B's teacher (the mentee) and another teacher of B; the mentee sees the pair but
    # neither keeps its log nor signs it off.
    # --- the reserve pool and assigned learning (issue 16): schools nominate and assign within their school, ----------
    # the district reviews; school B nominated the teacher (a second nomination is a 409: past authorisation).
    ("GET", "/organisation/pool"): Allow(ADMINS),
    ("POST", "/organisation/pool"): SCHOOL_SCOPED.but(form={"teacher": "{teacher_id}", "willing": "1"}),
    ("POST", "/organisation/pool/{member_id}/reviews"): DISTRICT_ONLY.but(
        params={"member_id": "pool_member_id"}, form={"outcome": "keep"}
    ),
    ("GET", "/organisation/assignments"): Allow(ADMINS),
    ("POST", "/organisation/assignments"): Allow(ADMINS).but(
        form={"course": "{course_id}", "kind": "pool", "due": "2026-12-31"}
    ),
    ("GET", "/organisation/assignments/{assignment_id}"): SCHOOL_SCOPED.but(
        params={"assignment_id": "learning_assignment_id"}
    ),
    ("GET", "/api/v1/organisation/pool"): Allow(ADMINS),
    ("POST", "/api/v1/organisation/pool"): SCHOOL_SCOPED.but(json={"teacher_id": "{teacher_id}", "willing": True}),
    ("POST", "/api/v1/organisation/pool/{member_id}/reviews"): DISTRICT_ONLY.but(
        params={"member_id": "pool_member_id"}, json={"outcome": "keep"}
    ),
    ("GET", "/api/v1/organisation/assignments"): Allow(ADMINS),
    ("POST", "/api/v1/organisation/assignments"): Allow(ADMINS).but(
        json={"course_id": "{course_id}", "group": "pool", "due": "2026-12-31"}
    ),
    ("GET", "/api/v1/organisation/assignments/{assignment_id}"): SCHOOL_SCOPED.but(
        params={"assignment_id": "learning_assignment_id"}
    ),
    ("GET", "/organisation/mentoring"): ANY_USER,
    ("POST", "/organisation/mentoring"): SCHOOL_SCOPED.but(form={"mentor": "{teacher_id}", "mentee": "{teacher_id}"}),
    ("GET", "/organisation/mentoring/{pair_id}"): Allow("teacher", "school_admin_own", "district_admin"),
    ("POST", "/organisation/mentoring/{pair_id}/meetings"): SCHOOL_SCOPED.but(
        form={"day": "2026-12-01", "minutes": "30"}
    ),
    ("POST", "/organisation/mentoring/{pair_id}/sign-off"): SCHOOL_SCOPED,
    ("GET", "/api/v1/organisation/mentoring"): ANY_USER,
    ("POST", "/api/v1/organisation/mentoring"): SCHOOL_SCOPED.but(
        json={"mentor_id": "{teacher_id}", "mentee_id": "{teacher_id}", "start": "2026-09-01", "end": "2027-06-30"}
    ),
    ("GET", "/api/v1/organisation/mentoring/{pair_id}"): Allow("teacher", "school_admin_own", "district_admin"),
    ("POST", "/api/v1/organisation/mentoring/{pair_id}/meetings"): SCHOOL_SCOPED.but(
        json={"day": "2026-12-01", "minutes": 30}
    ),
    ("POST", "/api/v1/organisation/mentoring/{pair_id}/sign-off"): SCHOOL_SCOPED.but(json={}),
    # Workshop outputs (成果): the teacher is a member of school B's workshop, hosted by the trainer (also a member);
    # members submit, the host reviews and promotes; the district and school B's admin look but do not review.
    ("GET", "/organisation/outputs"): ANY_USER,
    ("POST", "/organisation/outputs"): Allow("teacher", "trainer").but(
        form={"workshop": "{workshop_id}", "kind": "case", "title": "矩阵成果"}
    ),
    ("GET", "/organisation/workshops/{workshop_id}/outputs"): Allow(
        "teacher", "trainer", "school_admin_own", "district_admin"
    ),
    ("POST", "/organisation/outputs/{output_id}/accept"): Allow("trainer"),
    ("POST", "/organisation/outputs/{output_id}/return"): Allow("trainer", form={"reason": "矩阵"}),
    ("POST", "/organisation/outputs/{output_id}/promote"): Allow("trainer"),
    ("GET", "/organisation/outputs/{output_id}/file"): Allow(
        "teacher", "trainer", "school_admin_own", "district_admin"
    ),
    ("GET", "/api/v1/organisation/outputs"): ANY_USER,
    ("GET", "/api/v1/organisation/workshops/{workshop_id}/outputs"): Allow(
        "teacher", "trainer", "school_admin_own", "district_admin"
    ),
    ("POST", "/api/v1/organisation/workshops/{workshop_id}/outputs"): Allow(
        "teacher", "trainer", json={"title": "接口成果", "kind": "case", "upload_id": "{ready_upload_id}"}
    ),
    ("POST", "/api/v1/organisation/outputs/{output_id}/accept"): Allow("trainer"),
    ("POST", "/api/v1/organisation/outputs/{output_id}/return"): Allow("trainer", json={"reason": "接口"}),
    ("POST", "/api/v1/organisation/outputs/{output_id}/promote"): Allow("trainer", json={}),
    # Workshop evaluation: the district defines the (published, so versioned) indicators and scores; the host
    # (the trainer) self-assesses; school B's admin reads its workshop's evaluation.
    ("GET", "/organisation/evaluation"): ANY_USER,
    ("POST", "/organisation/indicator-sets"): DISTRICT_ONLY.but(form={"name": "矩阵指标"}),
    ("GET", "/organisation/indicator-sets/{set_id}"): DISTRICT_ONLY,
    ("POST", "/organisation/indicator-sets/{set_id}/indicators"): DISTRICT_ONLY.but(
        form={"name": "矩阵", "max_score": "5"}
    ),
    ("POST", "/organisation/indicators/{indicator_id}/delete"): DISTRICT_ONLY,
    ("POST", "/organisation/indicator-sets/{set_id}/publish"): DISTRICT_ONLY,
    ("POST", "/organisation/indicator-sets/{set_id}/versions"): DISTRICT_ONLY,
    ("GET", "/organisation/workshops/{workshop_id}/evaluation"): Allow("trainer", "school_admin_own", "district_admin"),
    ("POST", "/organisation/workshops/{workshop_id}/evaluation/self"): Allow("trainer"),
    ("POST", "/organisation/workshops/{workshop_id}/evaluation/scores"): DISTRICT_ONLY,
    ("GET", "/api/v1/organisation/indicator-sets"): DISTRICT_ONLY,
    ("POST", "/api/v1/organisation/indicator-sets"): DISTRICT_ONLY.but(json={"name": "接口指标"}),
    ("POST", "/api/v1/organisation/indicator-sets/{set_id}/indicators"): DISTRICT_ONLY.but(
        json={"name": "接口", "max_score": "5"}
    ),
    ("POST", "/api/v1/organisation/indicator-sets/{set_id}/publish"): DISTRICT_ONLY,
    ("POST", "/api/v1/organisation/indicator-sets/{set_id}/versions"): DISTRICT_ONLY,
    ("GET", "/api/v1/organisation/workshops/{workshop_id}/evaluation"): Allow(
        "trainer", "school_admin_own", "district_admin"
    ),
    ("POST", "/api/v1/organisation/workshops/{workshop_id}/evaluation/self"): Allow(
        "trainer", json={"year": 2026, "scores": []}
    ),
    ("POST", "/api/v1/organisation/workshops/{workshop_id}/evaluation/scores"): DISTRICT_ONLY.but(
        json={"year": 2026, "scores": []}
    ),
    # --- integrations: integration tokens only (tests/accounts/test_api_tokens.py); no cookie session gets in ------
    ("GET", "/api/v1/records/teachers"): NOBODY,
    ("GET", "/api/v1/credits/export"): NOBODY,
}
