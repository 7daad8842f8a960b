"""The trainer's side of assessment: a course's quiz (settings, questions, draws from banks, extensions), question
banks with Excel import, assignments, and course analytics with its Excel export.

Every route asks `backend.quizzes.access` whether the actor may do this; the refusals are 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from backend.accounts.deps import CurrentUser
from backend.accounts.models import Role, User
from backend.catalogue import ownership
from backend.catalogue.models import Course
from backend.db import SessionDep
from backend.kit.errors import InvalidInput, NotFound
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import download_headers, redirect, render
from backend.learning import service as learning
from backend.quizzes import access, analytics, banks, excel, service
from backend.quizzes import assignments as assignment_rules
from backend.quizzes.forms import apply_form, checked, error_context, number, require_valid, text
from backend.quizzes.models import QuestionBank, Quiz, QuizExtension

pages = APIRouter(include_in_schema=False)

XLSX = excel.XLSX_TYPE


def _attachment(content: bytes, filename: str, media_type: str) -> Response:
    return Response(content, media_type=media_type, headers=download_headers(filename, fallback="export.xlsx"))


# --- a course's quiz ----------------------------------------------------------------------------------------------


def _quiz_context(session: SessionDep, user: User, course: Course) -> dict[str, Any]:
    quiz = service.quiz_for_course(session, course.id)
    extensions: list[tuple[QuizExtension, User]] = []
    if quiz is not None:
        extensions = [
            (extension, teacher)
            for extension, teacher in session.execute(
                select(QuizExtension, User).join(User, User.id == QuizExtension.user_id)
                .where(QuizExtension.quiz_id == quiz.id).order_by(QuizExtension.granted_at.desc())
            )
        ]
    return {
        "course": course,
        "quiz": quiz,
        "banks": access.visible_banks(session, user),
        "bank_titles": service.quiz_bank_titles(session, quiz) if quiz else {},
        "count": service.question_count(session, quiz) if quiz else 0,
        "extensions": extensions,
        "kinds": excel.KIND_NAMES,
        "errors": {},
        "values": {},
    }


def _quiz_page(request: Request, session: SessionDep, user: User, course: Course, status: int = 200,
               **extra: Any) -> Response:
    return render(request, "quizzes/studio_quiz.html", _quiz_context(session, user, course) | extra, status=status)


@pages.get("/studio/courses/{course_id}/quiz")
def studio_quiz(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = access.editable_course(session, user, course_id)
    return _quiz_page(request, session, user, course)


def _quiz_change(request: Request, session: SessionDep, user: User, course: Course, form: FormData,
                 change: Callable[[], object], anchor: str = "") -> Response:
    """One change to the course's quiz from a form; refused, the quiz page again with the reasons."""
    return apply_form(
        request, session, change, done=f"/studio/courses/{course.id}/quiz{anchor}",
        refused=lambda errors: _quiz_page(request, session, user, course, 422, values=dict(form), **errors),
    )


def _course_quiz(session: SessionDep, user: User, course_id: int, *, draft: bool) -> tuple[Course, Quiz]:
    course = (access.draft_course if draft else access.editable_course)(session, user, course_id)
    quiz = service.quiz_for_course(session, course.id)
    if quiz is None:
        raise NotFound(_("This course has no quiz."))
    return course, quiz


@pages.post("/studio/courses/{course_id}/quiz")
def studio_quiz_settings(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    course = access.draft_course(session, user, course_id)

    def change() -> None:
        field_errors: dict[str, str] = {}
        settings = banks.QuizSettings(
            title=text(form, "title") or "课程测验",
            pass_mark=number(form, "pass_mark", field_errors) or 0,
            max_attempts=number(form, "max_attempts", field_errors) or 0,
            time_limit_minutes=number(form, "time_limit_minutes", field_errors, optional=True),
            counting=text(form, "counting") or "highest",
            show_explanations=text(form, "show_explanations") or "always",
            shuffle_options=checked(form, "shuffle_options"),
        )
        require_valid(field_errors)
        banks.update_settings(session, banks.ensure_quiz(session, course.id), settings)

    return _quiz_change(request, session, user, course, form, change)


def _question_input(form: FormData) -> banks.QuestionInput:
    return excel.question_from_form(
        kind=text(form, "kind"), prompt=text(form, "prompt"), options_text=text(form, "options"),
        answer=text(form, "answer"), explanation=text(form, "explanation"), points=text(form, "points"),
    )


@pages.post("/studio/courses/{course_id}/quiz/questions")
def studio_quiz_add_question(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    course = access.draft_course(session, user, course_id)
    return _quiz_change(
        request, session, user, course, form,
        lambda: banks.add_question(session, _question_input(form), quiz=banks.ensure_quiz(session, course.id)),
        "?done=added#questions",
    )


def _quiz_question(session: SessionDep, user: User, course_id: int, question_id: int) -> tuple[Course, Any]:
    """A question of the draft course's own quiz (not one drawn from a bank); 404 for any other."""
    course, quiz = _course_quiz(session, user, course_id, draft=True)
    question = banks.get_question(session, question_id)
    if question.quiz_id != quiz.id:
        raise NotFound(_("This question does not exist."))
    return course, question


def _question_edit_page(request: Request, course: Course, question: Any, values: dict[str, Any],
                        refusal: dict[str, Any] | None = None, status: int = 200) -> Response:
    """The question's form; `refusal`: the errors by field and the form's message (error_context)."""
    return render(request, "quizzes/question_edit.html", {
        "course": course, "question": question, "values": values, "errors": {}, "kinds": excel.KIND_NAMES,
    } | (refusal or {}), status=status)  # fmt: skip


@pages.get("/studio/courses/{course_id}/quiz/questions/{question_id}/edit")
def studio_quiz_edit_question(
    request: Request, course_id: int, question_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    course, question = _quiz_question(session, user, course_id, question_id)
    return _question_edit_page(request, course, question, banks.as_form_values(question))


@pages.post("/studio/courses/{course_id}/quiz/questions/{question_id}")
def studio_quiz_update_question(
    request: Request, course_id: int, question_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    course, question = _quiz_question(session, user, course_id, question_id)
    return apply_form(
        request, session, lambda: banks.update_question(session, question, _question_input(form)),
        done=f"/studio/courses/{course.id}/quiz?done=edited#questions",
        refused=lambda errors: _question_edit_page(request, course, question, dict(form), errors, 422),
    )


@pages.post("/studio/courses/{course_id}/quiz/questions/{question_id}/delete")
def studio_quiz_delete_question(
    request: Request, course_id: int, question_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    course = access.draft_course(session, user, course_id)
    quiz = service.quiz_for_course(session, course.id)
    question = banks.get_question(session, question_id)
    if quiz is None or question.quiz_id != quiz.id:
        raise NotFound(_("This question does not exist."))
    banks.delete_question(session, question)
    return redirect(request, f"/studio/courses/{course.id}/quiz#questions")


@pages.post("/studio/courses/{course_id}/quiz/draws")
def studio_quiz_add_draw(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    course = access.draft_course(session, user, course_id)

    def change() -> None:
        field_errors: dict[str, str] = {}
        bank_id = number(form, "bank_id", field_errors)
        count = number(form, "count", field_errors)
        require_valid(field_errors)
        assert bank_id is not None and count is not None
        bank = banks.get_bank(session, bank_id)
        access.require_bank_reader(session, user, bank)
        banks.add_draw_rule(session, banks.ensure_quiz(session, course.id), bank, count)

    return _quiz_change(request, session, user, course, form, change, "#draws")


@pages.post("/studio/courses/{course_id}/quiz/draws/{rule_id}/delete")
def studio_quiz_delete_draw(
    request: Request, course_id: int, rule_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    course, quiz = _course_quiz(session, user, course_id, draft=True)
    banks.remove_draw_rule(session, quiz, rule_id)
    return redirect(request, f"/studio/courses/{course.id}/quiz#draws")


@pages.post("/studio/courses/{course_id}/quiz/extensions")
def studio_quiz_extension(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    """Extra minutes for one teacher (by username); a running attempt's deadline moves at once. Allowed on a
    published course: it changes one teacher's time, not what is asked."""
    course, quiz = _course_quiz(session, user, course_id, draft=False)

    def change() -> None:
        field_errors: dict[str, str] = {}
        minutes = number(form, "minutes", field_errors)
        teacher = session.scalar(select(User).where(User.username == text(form, "username")))
        if teacher is None or learning.enrollment_for(session, teacher.id, course.id) is None:
            field_errors["username"] = _("No teacher with this username is enrolled in the course.")
        require_valid(field_errors)
        assert teacher is not None and minutes is not None
        service.grant_extension(session, quiz, teacher.id, minutes, user.id, text(form, "reason"))

    return _quiz_change(request, session, user, course, form, change, "#extensions")


# --- question banks -----------------------------------------------------------------------------------------------


def _owned_courses(session: SessionDep, user: User) -> list[tuple[str, str]]:
    """(code, title) of the course codes the user may tie a bank to, newest version's title."""
    if user.role == Role.district_admin:
        codes = list(session.scalars(select(Course.code).distinct()))
    else:
        codes = ownership.owned_codes(session, user.id)
    titles: dict[str, str] = {}
    for code, title in session.execute(
        select(Course.code, Course.title).where(Course.code.in_(codes)).order_by(Course.version)
    ):
        titles[code] = title
    return sorted(titles.items())


def _banks_context(session: SessionDep, user: User) -> dict[str, Any]:
    visible = access.visible_banks(session, user)
    return {
        "banks": visible,
        "counts": banks.question_counts(session, [b.id for b in visible]),
        "editable": {b.id for b in visible if access.can_edit_code(session, user, b.course_code)},
        "courses": _owned_courses(session, user),
        "district_admin": user.role == Role.district_admin,
        "errors": {},
        "values": {},
    }


@pages.get("/studio/banks")
def banks_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "quizzes/banks.html", _banks_context(session, user))


@pages.get("/studio/banks/template.xlsx")
def banks_template(user: CurrentUser) -> Response:
    access.require_author_role(user)
    return _attachment(excel.template_workbook(), "题库导入模板.xlsx", XLSX)


@pages.post("/studio/banks")
def banks_create(request: Request, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    access.require_author_role(user)
    code = text(form, "course_code") or None
    access.require_code_editor(session, user, code)
    made: list[QuestionBank] = []
    return apply_form(
        request, session,
        lambda: made.append(banks.create_bank(session, title=text(form, "title"), topic=text(form, "topic"),
                                              course_code=code, actor_id=user.id)),
        refused=lambda errors: render(request, "quizzes/banks.html",
                                      _banks_context(session, user) | {"values": dict(form)} | errors, status=422),
        done=lambda: redirect(request, f"/studio/banks/{made[0].id}"),
    )


def _bank_page(request: Request, session: SessionDep, user: User, bank: QuestionBank, status: int = 200,
               **extra: Any) -> Response:
    context = {
        "bank": bank,
        "questions": list(bank.questions),
        "editable": access.can_edit_code(session, user, bank.course_code),
        "kinds": excel.KIND_NAMES,
        "columns": excel.COLUMNS,
        "errors": {},
        "values": {},
        "import_errors": [],
    }
    return render(request, "quizzes/bank.html", context | extra, status=status)


def _editable_bank(session: SessionDep, user: User, bank_id: int) -> QuestionBank:
    bank = banks.get_bank(session, bank_id)
    access.require_bank_editor(session, user, bank)
    return bank


@pages.get("/studio/banks/{bank_id}")
def bank_page(request: Request, bank_id: int, session: SessionDep, user: CurrentUser) -> Response:
    bank = banks.get_bank(session, bank_id)
    access.require_bank_reader(session, user, bank)
    return _bank_page(request, session, user, bank, imported=request.query_params.get("imported"))


@pages.post("/studio/banks/{bank_id}/questions")
def bank_add_question(
    request: Request, bank_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    bank = _editable_bank(session, user, bank_id)
    return apply_form(
        request, session, lambda: banks.add_question(session, _question_input(form), bank=bank),
        refused=lambda errors: _bank_page(request, session, user, bank, 422, values=dict(form), **errors),
        done=f"/studio/banks/{bank.id}#questions",
    )


@pages.post("/studio/banks/{bank_id}/questions/{question_id}/delete")
def bank_delete_question(
    request: Request, bank_id: int, question_id: int, session: SessionDep, user: CurrentUser
) -> Response:
    bank = _editable_bank(session, user, bank_id)
    question = banks.get_question(session, question_id)
    if question.bank_id != bank.id:
        raise NotFound(_("This question does not exist."))
    banks.delete_question(session, question)
    return redirect(request, f"/studio/banks/{bank.id}#questions")


@pages.post("/studio/banks/{bank_id}/import")
def bank_import(request: Request, bank_id: int, form: FormDep, session: SessionDep, user: CurrentUser) -> Response:
    """All rows or none: a sheet with any wrong row imports nothing and lists every problem (row, column, why)."""
    bank = _editable_bank(session, user, bank_id)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(_("Please choose an Excel file (.xlsx)."), fields={"file": _("Choose a file.")})
        added = excel.import_into_bank(session, bank, upload.file)
    except excel.ImportRejected as exc:
        locale = request.state.locale
        rows = [{"row": e.row, "column": e.column, "message": translate(locale, e.message)} for e in exc.errors]
        return _bank_page(request, session, user, bank, 422, import_errors=rows, **error_context(request, exc))
    except InvalidInput as exc:
        return _bank_page(request, session, user, bank, 422, **error_context(request, exc))
    return redirect(request, f"/studio/banks/{bank.id}?imported={len(added)}")


# --- assignments --------------------------------------------------------------------------------------------------


def _rubric(form: FormData, field_errors: dict[str, str]) -> list[tuple[str, int]]:
    """One item per line, 'what is judged | points' (a full-width ｜ or a tab works too)."""
    items = []
    for line in text(form, "rubric").splitlines():
        if not line.strip():
            continue
        parts = line.replace("｜", "|").replace("\t", "|").rsplit("|", 1)
        try:
            items.append((parts[0].strip(), int(parts[1].strip())))
        except (IndexError, ValueError):
            field_errors["rubric"] = _("Write each rubric item as 'what is judged | points'.")
    return items


def _assignment_input(form: FormData) -> assignment_rules.AssignmentInput:
    field_errors: dict[str, str] = {}
    data = assignment_rules.AssignmentInput(
        title=text(form, "title"),
        instructions_md=text(form, "instructions_md"),
        pass_score=number(form, "pass_score", field_errors) or 0,
        allow_resubmission=checked(form, "allow_resubmission"),
        required=checked(form, "required"),
        rubric=_rubric(form, field_errors),
        max_score=number(form, "max_score", field_errors, optional=True),
    )
    require_valid(field_errors)
    return data


def _assignments_page(request: Request, session: SessionDep, course: Course, status: int = 200,
                      **extra: Any) -> Response:
    context = {"course": course, "assignments": assignment_rules.assignments_for_course(session, course.id),
               "errors": {}, "values": {}}
    return render(request, "quizzes/studio_assignments.html", context | extra, status=status)


@pages.get("/studio/courses/{course_id}/assignments")
def studio_assignments(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = access.editable_course(session, user, course_id)
    return _assignments_page(request, session, course)


@pages.post("/studio/courses/{course_id}/assignments")
def studio_assignment_create(
    request: Request, course_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    course = access.draft_course(session, user, course_id)
    return apply_form(
        request, session, lambda: assignment_rules.create_assignment(session, course.id, _assignment_input(form)),
        refused=lambda errors: _assignments_page(request, session, course, 422, values=dict(form), **errors),
        done=f"/studio/courses/{course.id}/assignments",
    )


@pages.get("/studio/assignments/{assignment_id}")
def studio_assignment(request: Request, assignment_id: int, session: SessionDep, user: CurrentUser) -> Response:
    assignment = assignment_rules.get_assignment(session, assignment_id)
    course = access.editable_course(session, user, assignment.course_id)
    return render(request, "quizzes/studio_assignment.html",
                  {"course": course, "assignment": assignment, "errors": {}, "values": {}})


@pages.post("/studio/assignments/{assignment_id}")
def studio_assignment_update(
    request: Request, assignment_id: int, form: FormDep, session: SessionDep, user: CurrentUser
) -> Response:
    assignment = assignment_rules.get_assignment(session, assignment_id)
    course = access.draft_course(session, user, assignment.course_id)
    return apply_form(
        request, session, lambda: assignment_rules.update_assignment(session, assignment, _assignment_input(form)),
        refused=lambda errors: render(request, "quizzes/studio_assignment.html",
                                      {"course": course, "assignment": assignment, "values": dict(form)} | errors,
                                      status=422),
        done=f"/studio/courses/{course.id}/assignments",
    )


# --- analytics ----------------------------------------------------------------------------------------------------


@pages.get("/studio/courses/{course_id}/analytics")
def course_analytics(request: Request, course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = access.editable_course(session, user, course_id)
    return render(request, "quizzes/analytics.html",
                  {"course": course, "data": analytics.course_analytics(session, course)})


@pages.get("/studio/courses/{course_id}/analytics.xlsx")
def course_analytics_export(course_id: int, session: SessionDep, user: CurrentUser) -> Response:
    course = access.editable_course(session, user, course_id)
    content = excel.analytics_workbook(analytics.course_analytics(session, course))
    return _attachment(content, f"课程数据-{course.code}.xlsx", XLSX)
