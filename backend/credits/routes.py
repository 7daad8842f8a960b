"""Credit-hour pages: the verification / certification queue with bulk actions, one entry's history and its
correction, the teacher's own hours (ledger, external records, programme progress) and an admin's view of a teacher.

Who may act on what is decided in `backend.credits.workflow`; these routes parse input and render.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from backend.accounts.deps import AdminUser, CurrentUser, DistrictAdmin
from backend.accounts.models import Role, User
from backend.credits import external, hours, programs, workflow
from backend.db import SessionDep
from backend.kit import clock, lists
from backend.kit.errors import AppError, InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.web import download_headers, redirect, render
from backend.media.storage import StorageDep
from backend.people import records
from backend.policies.service import load_policy
from backend.policies.taxonomy import CREDIT_CATEGORIES, CREDIT_LEVELS

pages = APIRouter(include_in_schema=False)

SOURCE_LABELS = {
    "course_completion": _("course_completion"),
    "offline_session": _("offline_session"),
    "external": _("external"),
    "adjustment": _("adjustment"),
    "mentoring": _("Mentoring"),
}
ACTION_LABELS = {"verify": _("Verify selected"), "certify": _("Certify selected"), "reject": _("Send back selected")}
DONE_LABELS = {"verify": _("verified"), "certify": _("certified"), "reject": _("sent back")}
LEVEL_LABELS = {level.code: level.name for level in CREDIT_LEVELS}


def _filters(actor: User, params: dict[str, str]) -> workflow.QueueFilters:
    """Filters from the query string; anything unparseable is ignored rather than an error page."""
    return workflow.QueueFilters(
        status=lists.choice(params.get("status") or workflow.default_status(actor), workflow.STATUSES),
        school_id=lists.number(params.get("school")),
        year=lists.number(params.get("year")),
        category=lists.choice(params.get("category"), hours.CATEGORIES),
        source=lists.choice(params.get("source"), workflow.SOURCES),
        q=lists.text(params.get("q"), max_length=64) or None,
    )


def _queue_page(
    request: Request,
    session: SessionDep,
    user: User,
    params: dict[str, str],
    *,
    status: int = 200,
    error: str | None = None,
    field_errors: dict[str, str] | None = None,
    reason: str = "",
) -> Response:
    filters = _filters(user, params)
    page = workflow.queue(session, user, filters, lists.page_number(params.get("page")))
    titles = workflow.source_titles(session, [(row.source, row.source_ref) for row in page.items])
    this_year = clock.local_year(clock.now())
    return render(
        request,
        "credits/queue.html",
        {
            "page": page,
            "titles": titles,
            "filters": filters,
            "query": urlencode(filters.params()),
            "count_cap": workflow.COUNT_CAP,
            "schools": records.schools_to_filter(session, user),
            "years": list(range(this_year, this_year - 6, -1)),
            "credit_categories": CREDIT_CATEGORIES,
            "source_labels": SOURCE_LABELS,
            "level_labels": LEVEL_LABELS,
            "statuses": workflow.STATUSES,
            "actions": workflow.actions_for(user),
            "action_labels": ACTION_LABELS,
            "done_labels": DONE_LABELS,
            "done": params.get("done"),
            "done_action": params.get("action"),
            "error": error,
            "field_errors": field_errors or {},
            "reason": reason,
            # Issue 13: the district admin is told when nobody can complete the induction, and why.
            "assessment_problem": (
                programs.assessment_problem(session, load_policy(session)) if user.role == Role.district_admin else None
            ),
        },
        block="results",
        status=status,
    )


@pages.get("/credits/queue")
def queue_page(request: Request, session: SessionDep, user: AdminUser) -> Response:
    return _queue_page(request, session, user, dict(request.query_params))


@pages.post("/credits/queue")
def queue_action(request: Request, form: FormDep, session: SessionDep, user: AdminUser) -> Response:
    """Verify / certify / reject the selected entries with one reason: all of them or, on any problem, none."""
    ids = [int(v) for v in form.getlist("entry") if isinstance(v, str) and v.isdigit()]
    action = str(form.get("action") or "")
    reason = str(form.get("reason") or "")
    back = {k: str(form.get(k)) for k in ("status", "school", "year", "category", "source", "q", "page") if form.get(k)}
    try:
        moved = workflow.apply(session, user, ids, action, reason)
    except AppError as exc:
        session.rollback()
        locale = request.state.locale
        return _queue_page(
            request,
            session,
            user,
            back,
            status=exc.status_code,
            error=translate(locale, exc.message, **exc.params),
            field_errors={k: translate(locale, v) for k, v in exc.fields.items()},
            reason=reason,
        )
    return redirect(request, "/credits/queue?" + urlencode(back | {"done": moved, "action": action}))


@pages.get("/credits/entries/{entry_id}")
def entry_page(request: Request, entry_id: int, session: SessionDep, user: AdminUser) -> Response:
    row = workflow.entry_row(session, user, entry_id)
    return render(
        request,
        "credits/entry.html",
        {
            "row": row,
            "titles": workflow.source_titles(session, [(row.source, row.source_ref)]),
            "history": workflow.history(session, entry_id),
            "source_labels": SOURCE_LABELS,
            "level_labels": LEVEL_LABELS,
            "correction": workflow.correction_of(session, entry_id),
        },
    )


@pages.post("/credits/entries/{entry_id}/reverse")
def reverse_entry(request: Request, entry_id: int, form: FormDep, session: SessionDep, user: DistrictAdmin) -> Response:
    reason = str(form.get("reason") or "")
    try:
        workflow.reverse(session, user, entry_id, reason)
    except InvalidInput as exc:
        session.rollback()
        locale = request.state.locale
        row = workflow.entry_row(session, user, entry_id)
        return render(
            request,
            "credits/entry.html",
            {
                "row": row,
                "titles": workflow.source_titles(session, [(row.source, row.source_ref)]),
                "history": workflow.history(session, entry_id),
                "source_labels": SOURCE_LABELS,
                "level_labels": LEVEL_LABELS,
                "correction": None,
                "reason": reason,
                "field_errors": {k: translate(locale, v) for k, v in exc.fields.items()},
            },
            status=422,
        )
    return redirect(request, f"/credits/entries/{entry_id}")


def _progress_context(session: SessionDep, teacher_id: int) -> dict[str, object]:
    policy = load_policy(session)
    today = clock.now().astimezone(clock.SHANGHAI).date()
    entries = hours.entries(session, teacher_id)
    years = sorted({e.year for e in entries}, reverse=True)
    return {
        "programs": programs.programs_for(session, teacher_id, policy, today),
        "policy": policy,
        "year": today.year,
        "entries_by_year": [(y, [e for e in entries if e.year == y]) for y in years],
        "totals": hours.by_year(session, teacher_id),
        "status_note": hours.STATUS_NOTE,
        "records": external.records_of(session, teacher_id),
        "course_titles": workflow.course_titles(session, {e.course_id for e in entries if e.course_id}),
        "titles": workflow.source_titles(session, [(e.source, e.source_ref) for e in entries]),
        "source_labels": SOURCE_LABELS,
        "level_labels": LEVEL_LABELS,
    }


@pages.get("/credits/mine")
def my_hours(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return render(request, "credits/hours.html", {"teacher": user, "own": True} | _progress_context(session, user.id))


@pages.get("/credits/teachers/{teacher_id}")
def teacher_hours(request: Request, teacher_id: int, session: SessionDep, user: AdminUser) -> Response:
    teacher = workflow.teacher_in_scope(session, user, teacher_id)
    return render(
        request, "credits/hours.html", {"teacher": teacher, "own": False} | _progress_context(session, teacher.id)
    )


def _external_form(request: Request, status: int = 200, **extra: object) -> Response:
    return render(
        request,
        "credits/external_new.html",
        {
            "credit_categories": CREDIT_CATEGORIES,
            "level_labels": LEVEL_LABELS,
            "values": {},
            "errors": {},
            "max_mb": external.MAX_FILE_BYTES // (1024 * 1024),
        }
        | extra,
        status=status,
    )


@pages.get("/credits/external/new")
def external_new(request: Request, user: CurrentUser) -> Response:
    return _external_form(request)


def _refuse_oversized(request: Request) -> None:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > external.MAX_FILE_BYTES + 1024 * 1024:
        raise InvalidInput(_("Please correct the marked fields."), fields={"file": _("At most 20 MB.")})


@pages.post("/credits/external", dependencies=[Depends(_refuse_oversized)])
def external_submit(
    request: Request, form: FormDep, session: SessionDep, storage: StorageDep, user: CurrentUser
) -> Response:
    values, received = _record_form(form)
    try:
        external.submit(session, storage, user, external.RecordIn(**values), received)
    except InvalidInput as exc:
        return _external_form_refused(request, exc, values)
    return redirect(request, "/credits/mine?submitted=1#external")


def _external_form_refused(request: Request, exc: InvalidInput, values: dict[str, str], **extra: object) -> Response:
    """The form again with what was typed and each field's problem (422)."""
    locale = request.state.locale
    return _external_form(
        request,
        422,
        values=values,
        errors={k: translate(locale, v) for k, v in exc.fields.items()},
        form_error=translate(locale, exc.message, **exc.params),
        **extra,
    )


RECORD_FIELDS = ("title", "hours", "category", "level", "earned_on", "topic")


def _record_form(form: FormData) -> tuple[dict[str, str], external.EvidenceFile | None]:
    """An external record's fields and its evidence file (None when no file was chosen), as the form sent them."""
    values = {k: str(form.get(k) or "") for k in RECORD_FIELDS}
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return values, external.EvidenceFile(upload.filename, upload.file)
    return values, None


def _record_values(record: object) -> dict[str, str]:
    return {k: str(getattr(record, k) or "") for k in RECORD_FIELDS}


@pages.get("/credits/external/{record_id}/edit")
def external_edit(request: Request, record_id: int, session: SessionDep, user: CurrentUser) -> Response:
    record, entry = external.sent_back(session, user, record_id)
    return _external_form(request, values=_record_values(record), original=record, reason=entry.reason)


@pages.post("/credits/external/{record_id}/resubmit", dependencies=[Depends(_refuse_oversized)])
def external_resubmit(
    request: Request, record_id: int, form: FormDep, session: SessionDep, storage: StorageDep, user: CurrentUser
) -> Response:
    values, received = _record_form(form)
    try:
        external.resubmit(session, storage, user, record_id, external.RecordIn(**values), received)
    except InvalidInput as exc:
        record, entry = external.sent_back(session, user, record_id)
        return _external_form_refused(request, exc, values, original=record, reason=entry.reason)
    return redirect(request, "/credits/mine?resubmitted=1#external")


@pages.get("/credits/external/{record_id}/evidence")
def external_evidence(record_id: int, session: SessionDep, storage: StorageDep, user: CurrentUser) -> Response:
    record = external.record_for(session, user, record_id)
    size = storage.stat(record.evidence_key).size
    return StreamingResponse(
        storage.read_range(record.evidence_key, 0, max(0, size - 1)),
        media_type=record.evidence_type,
        headers=download_headers(record.evidence_name, fallback="evidence", inline=True)
        | {"Content-Length": str(size)},
    )
