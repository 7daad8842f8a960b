"""本校教师 / 全区教师: teacher records and the roster import (职称评审, the title review, is in backend/evidence).

School admins act on their own school's teachers, district admins on all (`backend.people.records.scope`); teachers
and trainers are refused (403), another school's teacher is not found (404). Every form posts as a plain form and
redirects back, so the pages work without JavaScript; htmx requests of the lists get only the results block.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, Strict
from starlette.datastructures import FormData, UploadFile

from backend.accounts.deps import AdminUser
from backend.accounts.models import User
from backend.db import SessionDep
from backend.kit import clock, lists
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import download_headers, redirect, render
from backend.kit.xlsx import XLSX_TYPE
from backend.people import declined, records, roster

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["people"])

LABELS = records.LABELS


def _values(form: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


# ---------------------------------------------------------------------------------------------------------------
# Teacher list and records


@pages.get("/admin/teachers")
def teachers_page(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    q: str | None = None,
    school: str | None = None,
    page: str | None = None,
) -> Response:
    school_id = lists.number(school)
    result = records.list_teachers(session, user, query=q, school_id=school_id, page=lists.page_number(page))
    return render(
        request,
        "people/teachers.html",
        LABELS
        | {
            "page": result,
            "q": lists.text(q),
            "school_id": school_id,
            "schools": records.schools_to_filter(session, user),
        },
        block="results",
    )


@pages.get("/admin/teachers/template.xlsx")
def roster_template(user: AdminUser) -> Response:
    return Response(
        roster.template_workbook(),
        media_type=XLSX_TYPE,
        headers=download_headers("教师名单导入模板.xlsx", fallback="roster.xlsx"),
    )


@pages.get("/admin/teachers/import")
def import_page(request: Request, user: AdminUser) -> Response:
    return render(request, "people/import.html", {"report": None, "columns": roster.COLUMNS})


@pages.post("/admin/teachers/import")
def import_roster(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    upload = form.get("file")
    context: dict[str, Any] = {"report": None, "columns": roster.COLUMNS}
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(_("Choose the roster file to upload."))
        content = upload.file.read(roster.MAX_IMPORT_BYTES + 1)
        report = roster.import_roster(session, user, content, upload.filename)
    except InvalidInput as exc:
        context["form_error"] = translate(request.state.locale, exc.message, **exc.params)
        return render(request, "people/import.html", context, status=422)
    context["report"] = report
    context["filename"] = upload.filename
    return render(request, "people/import.html", context, status=200 if report.ok else 422)


def _record_page(
    request: Request, session: SessionDep, user: User, teacher_id: int, status: int = 200, **extra: Any
) -> Response:
    context: dict[str, Any] = LABELS | {
        "record": records.record_of(session, user, teacher_id),
        "sections": records.extra_sections(session, user, teacher_id),
        "declined": declined.of_teacher(session, user, teacher_id),
        "this_year": clock.local_year(clock.now()),
        "schools": records.all_schools(session),
        "statuses": records.STATUSES,
        "kinds": records.PERIOD_KINDS,
        "results": records.RESULTS,
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
        "form": None,
    }
    return render(request, "people/teacher.html", context | extra, status=status)


@pages.get("/admin/teachers/{teacher_id}")
def teacher_page(request: Request, teacher_id: int, session: SessionDep, user: AdminUser) -> Response:
    return _record_page(request, session, user, teacher_id)


def _change(
    request: Request,
    session: SessionDep,
    user: User,
    teacher_id: int,
    form: FormData,
    which: str,
    apply: Callable[[dict[str, str]], object],
    saved: str,
) -> Response:
    """Applies one form's change and redirects back to the record (POST/redirect/GET); a rejected change shows the
    record again with the typed values and the field messages (422)."""
    try:
        apply(_values(form))
    except InvalidInput as exc:
        session.rollback()  # nothing of the rejected change stays in the request's transaction
        locale = request.state.locale
        return _record_page(
            request, session, user, teacher_id, 422,
            form=which, values=_values(form), errors={k: translate(locale, v) for k, v in exc.fields.items()},
            form_error=translate(locale, exc.message, **exc.params),
        )  # fmt: skip
    return redirect(request, f"/admin/teachers/{teacher_id}?saved={saved}")


@pages.post("/admin/teachers/{teacher_id}/profile")
def save_profile(request: Request, teacher_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> object:
        return records.update_profile(session, user, teacher_id, values)

    return _change(request, session, user, teacher_id, form, "profile", apply, "profile")


@pages.post("/admin/teachers/{teacher_id}/periods")
def add_period(request: Request, teacher_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> object:
        return records.save_period(session, user, teacher_id, values)

    return _change(request, session, user, teacher_id, form, "period", apply, "period#periods")


@pages.post("/admin/teachers/{teacher_id}/periods/{period_id}")
def change_period(
    request: Request, teacher_id: int, period_id: int, form: FormDep, session: SessionDep, user: AdminUser
) -> Response:
    def apply(values: dict[str, str]) -> object:
        return records.save_period(session, user, teacher_id, values, period_id)

    return _change(request, session, user, teacher_id, form, f"period-{period_id}", apply, "period#periods")


@pages.post("/admin/teachers/{teacher_id}/periods/{period_id}/delete")
def delete_period(request: Request, teacher_id: int, period_id: int, session: SessionDep, user: AdminUser) -> Response:
    records.delete_period(session, user, teacher_id, period_id)
    return redirect(request, f"/admin/teachers/{teacher_id}?saved=period_deleted#periods")


@pages.post("/admin/teachers/{teacher_id}/evaluations")
def save_evaluation(request: Request, teacher_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> object:
        return records.save_evaluation(session, user, teacher_id, values)

    return _change(request, session, user, teacher_id, form, "evaluation", apply, "evaluation#evaluations")


@pages.post("/admin/teachers/{teacher_id}/evaluations/{year}/delete")
def delete_evaluation(request: Request, teacher_id: int, year: int, session: SessionDep, user: AdminUser) -> Response:
    records.delete_evaluation(session, user, teacher_id, year)
    return redirect(request, f"/admin/teachers/{teacher_id}?saved=evaluation_deleted#evaluations")


@pages.post("/admin/teachers/{teacher_id}/declined")
def record_declined(request: Request, teacher_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> object:
        return declined.record(session, user, teacher_id, values.get("year"), values.get("reason"))

    return _change(request, session, user, teacher_id, form, "declined", apply, "declined#declined")


@pages.post("/admin/teachers/{teacher_id}/declined/{declined_id}/withdraw")
def withdraw_declined(
    request: Request, teacher_id: int, declined_id: int, form: FormDep, session: SessionDep, user: AdminUser
) -> Response:
    def apply(values: dict[str, str]) -> object:
        return declined.withdraw(session, user, declined_id, values.get("withdraw_reason"))

    return _change(
        request, session, user, teacher_id, form, f"withdraw-{declined_id}", apply, "declined_withdrawn#declined"
    )


# ---------------------------------------------------------------------------------------------------------------
# JSON API: declined appointments (the plan's 二(一)1)


class DeclinedIn(BaseModel):
    year: Annotated[int, Strict()] = Field(
        ge=2000, le=2100, description="The calendar year deferred (评优评先、职称及职务晋升)"
    )
    reason: str = Field(max_length=2000)


class WithdrawIn(BaseModel):
    reason: str = Field(max_length=2000)


class DeclinedOut(BaseModel):
    id: int
    teacher_id: int
    year: int
    reason: str
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdraw_reason: str


def _declined_out(item: declined.DeclinedRow) -> DeclinedOut:
    r = item.row
    return DeclinedOut(
        id=r.id, teacher_id=r.user_id, year=r.year, reason=r.reason, recorded_by=item.recorded_by,
        recorded_at=r.recorded_at, withdrawn_at=r.withdrawn_at, withdrawn_by=item.withdrawn_by,
        withdraw_reason=r.withdraw_reason,
    )  # fmt: skip


@api.get("/people/teachers/{teacher_id}/declined-appointments", response_model=list[DeclinedOut])
def api_declined(teacher_id: int, session: SessionDep, user: AdminUser) -> list[DeclinedOut]:
    """A teacher's declined-appointment records, newest year first (school admins: their own school's teachers)."""
    return [_declined_out(item) for item in declined.of_teacher(session, user, teacher_id)]


@api.post("/people/teachers/{teacher_id}/declined-appointments", response_model=DeclinedOut, status_code=201)
def api_record_declined(teacher_id: int, body: DeclinedIn, session: SessionDep, user: AdminUser) -> DeclinedOut:
    """Records that the teacher declined appointment as 班主任 without good reason in `year`: that year's title
    review shows it and defers the waiver, the honour and an excellent rating."""
    row = declined.record(session, user, teacher_id, body.year, body.reason)
    return next(_declined_out(i) for i in declined.of_teacher(session, user, teacher_id) if i.row.id == row.id)


@api.post("/people/declined-appointments/{declined_id}/withdraw", response_model=DeclinedOut)
def api_withdraw_declined(declined_id: int, body: WithdrawIn, session: SessionDep, user: AdminUser) -> DeclinedOut:
    """Withdraws a record with a reason (it stays, marked withdrawn)."""
    row = declined.withdraw(session, user, declined_id, body.reason)
    return next(_declined_out(i) for i in declined.of_teacher(session, user, row.user_id) if i.row.id == row.id)
