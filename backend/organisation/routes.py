"""Pages (Chinese, per role) and the JSON API of the homeroom organisation.

Routes are thin: they parse input and call one service function; who may act on which school is decided in
`backend.organisation.scope` (school admins: their own school; district admins: all; others: 403). Every form posts
as a plain form and redirects back (POST/redirect/GET); a refused change shows the page again with field messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, Strict
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from backend.accounts.deps import AdminUser
from backend.accounts.models import Role, User
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.numbers import Int
from backend.kit.web import download_headers, redirect, render
from backend.kit.xlsx import XLSX_TYPE
from backend.organisation import assignments, class_import, classes, pool, scope, tiers
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"])

SchoolCodePath = Annotated[str, Path(max_length=32, pattern=r"^[^\x00-\x1f]+$", description="The school's code")]
YearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="School year (学年), by the year it starts in")]


def _values(form: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


def _classes_url(school_id: int, year: int, saved: str | None = None, anchor: str = "") -> str:
    query = {"school": school_id, "year": year} | ({"saved": saved} if saved else {})
    return f"/organisation/classes?{urlencode(query)}{anchor}"


def _years(session: Session, current: int) -> list[int]:
    return list(range(current + 1, current - 6, -1))


# ---------------------------------------------------------------------------------------------------------------
# Classes and their homeroom teachers


def _classes_page(
    request: Request, session: Session, user: User, school_id: int | None, year_raw: str | None,
    status: int = 200, **extra: Any,
) -> Response:  # fmt: skip
    policy = load_policy(session)
    year = scope.parse_year(year_raw, policy)
    schools = scope.schools_in_scope(session, user)
    if school_id is None and schools:
        school_id = schools[0].id
    if school_id is None and user.role == Role.district_admin:  # a district without schools yet: nothing to pick
        return render(request, "organisation/no_schools.html", {}, status=status)
    view = classes.overview(session, user, school_id, year, policy)
    context: dict[str, Any] = {
        "view": view,
        "schools": schools if user.role == Role.district_admin else [],
        "years": _years(session, scope.school_year_of(scope.today(), policy)),
        "teachers": classes.teachers_of(session, view.school.id),
        "stages": classes.STAGES,
        "stage_labels": classes.STAGE_LABELS,
        "roles": classes.ROLES,
        "role_labels": classes.ROLE_LABELS,
        "saved": request.query_params.get("saved"),
        "errors": {},
        "values": {},
        "form": None,
        "today": scope.today(),
        # The reserve pool's candidates with their record (储备期表现作为聘任依据), where a 班主任 is appointed.
        "pool_records": pool.records_for_school(session, user, view.school.id, policy),
        "pool_status_labels": pool.STATUS_LABELS,
        "outcome_labels": pool.OUTCOME_LABELS,
        "state_labels": assignments.STATE_LABELS,
    }
    return render(request, "organisation/classes.html", context | extra, status=status)


@pages.get("/organisation/classes")
def classes_page(
    request: Request, session: SessionDep, user: AdminUser, school: str | None = None, year: str | None = None
) -> Response:
    return _classes_page(request, session, user, _number(school), year)


def _change(
    request: Request, session: Session, user: User, form: FormData, which: str,
    apply: Callable[[dict[str, str]], tuple[int, int]], saved: str,
) -> Response:  # fmt: skip
    """Applies one form's change and redirects back to the class list; a refused change shows the list again with
    the typed values and the field messages (422), nothing of it kept."""
    values = _values(form)
    try:
        school_id, year = apply(values)
    except InvalidInput as exc:
        session.rollback()
        locale = request.state.locale
        return _classes_page(
            request, session, user, _number(values.get("school")), values.get("year"), 422,
            form=which, values=values, errors={k: translate(locale, v) for k, v in exc.fields.items()},
            form_error=translate(locale, exc.message, **exc.params),
        )  # fmt: skip
    return redirect(request, _classes_url(school_id, year, saved, f"#{which}"))


@pages.post("/organisation/stage")
def save_stage(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> tuple[int, int]:
        year = scope.parse_year(values.get("year"), load_policy(session))
        row = classes.set_stage(session, user, _number(values.get("school")), year, values.get("stage", ""))
        return row.school_id, year

    return _change(request, session, user, form, "stage", apply, "stage")


@pages.post("/organisation/classes")
def add_class(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> tuple[int, int]:
        year = scope.parse_year(values.get("year"), load_policy(session))
        school_class = classes.add_class(
            session, user, _number(values.get("school")), year, values.get("name", ""), values.get("grade", "")
        )
        return school_class.school_id, year

    return _change(request, session, user, form, "new-class", apply, "class")


@pages.post("/organisation/classes/{class_id}/appointments")
def appoint(request: Request, class_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    def apply(values: dict[str, str]) -> tuple[int, int]:
        teacher_id = _number(values.get("teacher"))
        if teacher_id is None:
            raise InvalidInput(_("Please correct the marked fields."), fields={"teacher": _("Choose a teacher.")})
        appointment = classes.appoint(
            session, user, class_id, teacher_id, values.get("role", ""), values.get("start"), load_policy(session)
        )
        school_class = classes.class_for(session, user, appointment.class_id)
        return school_class.school_id, school_class.year

    return _change(request, session, user, form, f"class-{class_id}", apply, "appointed")


@pages.post("/organisation/appointments/{appointment_id}/end")
def end_appointment(
    request: Request, appointment_id: int, form: FormDep, session: SessionDep, user: AdminUser
) -> Response:
    def apply(values: dict[str, str]) -> tuple[int, int]:
        appointment = classes.end_appointment(session, user, appointment_id, values.get("end"), load_policy(session))
        school_class = classes.class_for(session, user, appointment.class_id)
        return school_class.school_id, school_class.year

    return _change(request, session, user, form, f"appointment-{appointment_id}", apply, "ended")


@pages.get("/organisation/classes/template.xlsx")
def class_template(user: AdminUser) -> Response:
    return Response(
        class_import.template_workbook(),
        media_type=XLSX_TYPE,
        headers=download_headers("班级与班主任导入模板.xlsx", fallback="classes.xlsx"),
    )


def _import_context(session: Session, user: User, school_id: int | None, year: int) -> dict[str, Any]:
    schools = scope.schools_in_scope(session, user)
    school = scope.school_for(
        session, user, school_id if school_id is not None else (schools[0].id if schools else None)
    )
    return {
        "report": None,
        "columns": class_import.COLUMNS,
        "school": school,
        "schools": schools if user.role == Role.district_admin else [],
        "year": year,
        "years": _years(session, scope.school_year_of(scope.today(), load_policy(session))),
    }


@pages.get("/organisation/classes/import")
def import_page(
    request: Request, session: SessionDep, user: AdminUser, school: str | None = None, year: str | None = None
) -> Response:
    year_value = scope.parse_year(year, load_policy(session))
    return render(request, "organisation/import.html", _import_context(session, user, _number(school), year_value))


@pages.post("/organisation/classes/import")
def import_classes(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    values = _values(form)
    policy = load_policy(session)
    year = scope.parse_year(values.get("year"), policy)
    context = _import_context(session, user, _number(values.get("school")), year)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(_("Choose the file to upload."))
        content = upload.file.read(class_import.MAX_IMPORT_BYTES + 1)
        report = class_import.import_classes(
            session, user, context["school"].id, year, content, upload.filename, policy
        )
    except InvalidInput as exc:
        context["form_error"] = translate(request.state.locale, exc.message, **exc.params)
        return render(request, "organisation/import.html", context, status=422)
    context |= {"report": report, "filename": upload.filename}
    return render(request, "organisation/import.html", context, status=200 if report.ok else 422)


# ---------------------------------------------------------------------------------------------------------------
# Tiers (shown and set on the teacher record page)


@pages.post("/organisation/teachers/{teacher_id}/tier")
def set_tier(request: Request, teacher_id: int, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    from backend.people.routes import _record_page  # the teacher record page, shown again with the field messages

    values = _values(form)
    try:
        tiers.set_tier(
            session, user, teacher_id, values.get("tier", ""), values.get("effective"), values.get("reason", "")
        )
    except InvalidInput as exc:
        session.rollback()
        locale = request.state.locale
        return _record_page(
            request, session, user, teacher_id, 422, form="tier", values=values,
            errors={k: translate(locale, v) for k, v in exc.fields.items()},
            form_error=translate(locale, exc.message, **exc.params),
        )  # fmt: skip
    return redirect(request, f"/admin/teachers/{teacher_id}?saved=tier#tiers")


# ---------------------------------------------------------------------------------------------------------------
# JSON API


class AppointmentOut(BaseModel):
    id: int
    class_id: int
    teacher_id: int
    teacher_name: str
    role: str
    start: date
    end: date | None
    service_period_id: int | None


class ClassOut(BaseModel):
    id: int
    name: str
    grade: str
    year: int
    has_one_homeroom_teacher: bool
    appointments: list[AppointmentOut]


class SchoolClassesOut(BaseModel):
    school: str
    school_name: str
    year: int
    stage: str
    counted_on: date
    every_class_has_one_homeroom_teacher: bool
    classes_without_homeroom_teacher: list[str]
    classes: list[ClassOut]


class ClassIn(BaseModel):
    year: Annotated[int, Strict()] = Field(ge=scope.FIRST_SCHOOL_YEAR, le=2100)
    name: str = Field(max_length=200)
    grade: str = Field(default="", max_length=200)


class StageIn(BaseModel):
    year: Annotated[int, Strict()] = Field(ge=scope.FIRST_SCHOOL_YEAR, le=2100)
    stage: str = Field(max_length=32)


class AppointmentIn(BaseModel):
    teacher_id: Int = Field(ge=1)
    role: str = Field(max_length=32, description="homeroom (班主任) | deputy (副班主任) | rotating (轮值班主任)")
    start: date
    end: date | None = None


class EndIn(BaseModel):
    end: date


def _appointment_out(appointment: Any, name: str) -> AppointmentOut:
    return AppointmentOut(
        id=appointment.id, class_id=appointment.class_id, teacher_id=appointment.user_id, teacher_name=name,
        role=appointment.role, start=appointment.start, end=appointment.end,
        service_period_id=appointment.service_period_id,
    )  # fmt: skip


def _classes_out(view: classes.Overview) -> SchoolClassesOut:
    compliance = view.compliance
    return SchoolClassesOut(
        school=view.school.code, school_name=view.school.name, year=view.year, stage=view.stage, counted_on=view.day,
        every_class_has_one_homeroom_teacher=compliance.met,
        classes_without_homeroom_teacher=list(compliance.without),
        classes=[
            ClassOut(
                id=row.school_class.id, name=row.school_class.name, grade=row.school_class.grade, year=view.year,
                has_one_homeroom_teacher=row.homeroom_count(view.day) == 1,
                appointments=[_appointment_out(a, n) for a, n in row.appointments],
            )
            for row in view.rows
        ],
    )  # fmt: skip


@api.get("/organisation/schools/{school_code}/classes", response_model=SchoolClassesOut)
def api_school_classes(
    school_code: SchoolCodePath, session: SessionDep, user: AdminUser, year: YearQuery = None
) -> SchoolClassesOut:
    """A school's classes in a school year (default: the current one) with their appointments, and whether every
    class has exactly one 班主任 on the counting day (today, kept inside the school year)."""
    policy = load_policy(session)
    school = scope.school_by_code(session, user, school_code)
    view = classes.overview(session, user, school.id, scope.parse_year(year, policy), policy)
    return _classes_out(view)


@api.post("/organisation/schools/{school_code}/classes", response_model=ClassOut, status_code=201)
def api_add_class(school_code: SchoolCodePath, body: ClassIn, session: SessionDep, user: AdminUser) -> ClassOut:
    school = scope.school_by_code(session, user, school_code)
    school_class = classes.add_class(session, user, school.id, body.year, body.name, body.grade)
    return ClassOut(
        id=school_class.id, name=school_class.name, grade=school_class.grade, year=school_class.year,
        has_one_homeroom_teacher=False, appointments=[],
    )  # fmt: skip


@api.put("/organisation/schools/{school_code}/stage", response_model=StageIn)
def api_set_stage(school_code: SchoolCodePath, body: StageIn, session: SessionDep, user: AdminUser) -> StageIn:
    school = scope.school_by_code(session, user, school_code)
    row = classes.set_stage(session, user, school.id, body.year, body.stage)
    return StageIn(year=row.year, stage=row.stage)


@api.post("/organisation/classes/{class_id}/appointments", response_model=AppointmentOut, status_code=201)
def api_appoint(class_id: int, body: AppointmentIn, session: SessionDep, user: AdminUser) -> AppointmentOut:
    """Appoints a teacher as 班主任, 副班主任 or 轮值班主任; writes the matching service period."""
    appointment = classes.appoint(
        session, user, class_id, body.teacher_id, body.role, body.start, load_policy(session), body.end
    )
    teacher = session.get(User, appointment.user_id)
    return _appointment_out(appointment, teacher.display_name if teacher else "")


@api.post("/organisation/appointments/{appointment_id}/end", response_model=AppointmentOut)
def api_end_appointment(appointment_id: int, body: EndIn, session: SessionDep, user: AdminUser) -> AppointmentOut:
    """Ends an appointment on a day; closes its service period on the same day."""
    appointment = classes.end_appointment(session, user, appointment_id, body.end, load_policy(session))
    teacher = session.get(User, appointment.user_id)
    return _appointment_out(appointment, teacher.display_name if teacher else "")


class TierChangeOut(BaseModel):
    tier: str
    effective: date
    reason: str
    set_by: str


class TiersOut(BaseModel):
    teacher_id: int
    current: str | None
    suggested: str | None
    history: list[TierChangeOut]


class TierIn(BaseModel):
    tier: str = Field(
        max_length=32, description="horizon (地平线) | compass (指南针) | climber (攀登者) | starry (满天星)"
    )
    effective: date | None = None
    reason: str = Field(default="", max_length=1000)


def _tiers_out(history: tiers.TierHistory) -> TiersOut:
    return TiersOut(
        teacher_id=history.teacher.id, current=history.current, suggested=history.suggested,
        history=[
            TierChangeOut(tier=c.tier, effective=c.effective, reason=c.reason, set_by=n) for c, n in history.changes
        ],
    )  # fmt: skip


@api.get("/organisation/teachers/{teacher_id}/tiers", response_model=TiersOut)
def api_tiers(teacher_id: int, session: SessionDep, user: AdminUser) -> TiersOut:
    """A teacher's current tier, the policy's suggestion and the history of tiers set by the district."""
    return _tiers_out(tiers.history(session, user, teacher_id))


@api.post("/organisation/teachers/{teacher_id}/tiers", response_model=TiersOut, status_code=201)
def api_set_tier(teacher_id: int, body: TierIn, session: SessionDep, user: AdminUser) -> TiersOut:
    """Sets a teacher's tier from a day on (district admins only)."""
    tiers.set_tier(session, user, teacher_id, body.tier, body.effective, body.reason)
    return _tiers_out(tiers.history(session, user, teacher_id))
