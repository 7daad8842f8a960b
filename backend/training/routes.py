"""线下研修: scheduling sessions, the rotating check-in QR code, check-in on the phone, attendance, compliance.

Routes are thin: rules and scope live in `backend.training.service`, codes in `backend.training.checkin`,
the monthly rule in `backend.training.compliance`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from backend.accounts.deps import AdminUser, CurrentUser, OptionalUser, RunnerUser
from backend.accounts.models import Role, User
from backend.db import SessionDep
from backend.kit import clock, lists
from backend.kit.clock import SHANGHAI
from backend.kit.errors import Conflict, Forbidden, InvalidInput
from backend.kit.forms import FormDep
from backend.kit.i18n import _, translate
from backend.kit.state import SettingsDep
from backend.kit.web import redirect, render, request_locale
from backend.policies.service import load_policy
from backend.training import checkin, compliance, service
from backend.training.models import TrainingSession

pages = APIRouter(include_in_schema=False)

# Teachers are refused at the door (403); the school scope is applied inside every service call.

NOTICES = {
    "scheduled": _("The session is scheduled. Show its check-in code at the session."),
    "marked": _("Attendance recorded. The hours are in the ledger as pending."),
    "unchanged": _("These teachers were already recorded; nothing changed."),
    "cancelled": _("The session is cancelled. Teachers who open its page or scan its code are told so."),
}


def _year(value: str | None) -> int:
    return lists.year(value, default=clock.now().astimezone(SHANGHAI).year)


def _checkin_secret(settings: SettingsDep) -> str:
    """The key the check-in codes and scan proofs are signed with."""
    return str(settings.secret_key)


CheckinSecret = Annotated[str, Depends(_checkin_secret)]


@pages.get("/training")
def sessions_page(
    request: Request, session: SessionDep, user: RunnerUser, year: str | None = None, page: str | None = None
) -> Response:
    chosen = _year(year)
    return render(
        request,
        "training/list.html",
        {
            "page": service.sessions_for(session, user, year=chosen, page=lists.page_number(page)),
            "year": chosen,
            "level_labels": service.LEVEL_LABELS,
            "sees_compliance": user.role in (Role.school_admin, Role.district_admin),
        },
        block="results",
    )


def _form_page(
    request: Request, session: SessionDep, user: User, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    policy = load_policy(session)
    return render(
        request,
        "training/new.html",
        {
            "values": values,
            "errors": errors,
            "levels": service.levels_for(user),
            "level_labels": service.LEVEL_LABELS,
            "schools": service.schools_for(session, user),
            "policy": policy,
        },
        status=status,
    )


@pages.get("/training/new")
def new_session_page(request: Request, session: SessionDep, user: RunnerUser) -> Response:
    return _form_page(request, session, user, service.empty_form(user, load_policy(session)), {})


@pages.post("/training")
def schedule_session(request: Request, session: SessionDep, user: RunnerUser, form: FormDep) -> Response:
    values = {key: form.get(key) for key in form}
    try:
        with session.begin_nested():
            ts = service.schedule(session, user, values, load_policy(session))
    except InvalidInput as exc:
        return _form_page(request, session, user, values, exc.fields, status=422)
    return redirect(request, f"/training/sessions/{ts.id}?notice=scheduled")


def _detail(
    request: Request,
    session: SessionDep,
    ts: TrainingSession,
    *,
    notice: str | None = None,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    usernames: str = "",
    reason: str = "",
    status: int = 200,
) -> Response:
    policy = load_policy(session)
    return render(
        request,
        "training/detail.html",
        {
            "ts": ts,
            "school_name": service.school_name(session, ts),
            "level_labels": service.LEVEL_LABELS,
            "attendees": service.attendees(session, ts),
            "unmarked": service.unmarked_teachers(session, ts),
            "window": service.checkin_window(ts, policy),
            "window_state": service.checkin_window(ts, policy).state(clock.now()),
            "notice": notice,
            "problem": problem,
            "errors": errors or {},
            "usernames": usernames,
            "reason": reason,
        },
        status=status,
    )


@pages.get("/training/sessions/{session_id}")
def session_page(
    request: Request, session_id: int, session: SessionDep, user: RunnerUser, notice: str | None = None
) -> Response:
    ts = service.managed_training_session(session, user, session_id)
    return _detail(request, session, ts, notice=NOTICES.get(notice or ""))


@pages.post("/training/sessions/{session_id}/attendance")
def mark_attendance(
    request: Request, session_id: int, session: SessionDep, user: RunnerUser, form: FormDep
) -> Response:
    ts = service.managed_training_session(session, user, session_id)
    ids = [int(v) for v in form.getlist("user_id") if isinstance(v, str) and v.isdigit()]
    usernames = form.get("usernames")
    usernames = usernames if isinstance(usernames, str) else ""
    try:
        with session.begin_nested():
            marked = service.mark_attendance(session, user, ts, user_ids=ids, usernames=usernames)
    except (InvalidInput, Forbidden) as exc:
        problem = translate(request_locale(request), exc.message, **exc.params)
        return _detail(
            request, session, ts, problem=problem, errors=exc.fields, usernames=usernames, status=exc.status_code
        )
    return redirect(request, f"/training/sessions/{ts.id}?notice={'marked' if marked else 'unchanged'}")


@pages.post("/training/sessions/{session_id}/cancel")
def cancel_session(request: Request, session_id: int, session: SessionDep, user: RunnerUser, form: FormDep) -> Response:
    ts = service.managed_training_session(session, user, session_id)
    reason = form.get("reason")
    reason = reason if isinstance(reason, str) else ""
    try:
        with session.begin_nested():
            service.cancel(session, user, ts, reason)
    except (InvalidInput, Conflict) as exc:
        problem = translate(request_locale(request), exc.message, **exc.params)
        return _detail(request, session, ts, problem=problem, errors=exc.fields, reason=reason, status=exc.status_code)
    return redirect(request, f"/training/sessions/{ts.id}?notice=cancelled")


@pages.get("/training/sessions/{session_id}/qr")
def show_code(
    request: Request, session_id: int, session: SessionDep, user: RunnerUser, secret: CheckinSecret
) -> Response:
    """The projector page: a full-screen code that rotates; htmx fetches only the code block when it is due."""
    ts = service.managed_training_session(session, user, session_id)
    if ts.cancelled_at is not None:
        raise Conflict(_("This session was cancelled."))
    policy = load_policy(session)
    now = clock.now()
    window = service.checkin_window(ts, policy)
    state = window.state(now)
    context: dict[str, Any] = {
        "ts": ts,
        "state": state,
        "window": window,
        "attendees": service.attendee_count(session, ts),
        "wait": policy.training.checkin_code_seconds,
    }
    if state == "open":
        code = checkin.code_for(secret, ts.id, checkin.step_at(now, policy.training.checkin_code_seconds))
        url = str(request.url_for("scan_code", code=code))
        context["url"] = url
        label = translate(request_locale(request), _("Check-in code for %(title)s"), title=ts.title)
        context["qr_svg"] = Markup(checkin.qr_svg(url, label))  # noqa: S704  # nosec B704 - segno escapes the title
        context["wait"] = checkin.seconds_to_next_step(now, policy.training.checkin_code_seconds) + 1
    return render(request, "training/qr.html", context, block="code")


@pages.get("/training/c/{code}", name="scan_code")
def scan_code(
    request: Request, code: str, session: SessionDep, user: OptionalUser, settings: SettingsDep, secret: CheckinSecret
) -> Response:
    """What the phone opens: no login needed to check the code, so a teacher who must log in first keeps it.
    (`user` only resolves the viewer, so an error page shows who is logged in.)"""
    policy = load_policy(session)
    now = clock.now()
    scanned = checkin.verify_code(secret, code, now, policy.training.checkin_code_seconds)
    ts = service.get_training_session(session, scanned.session_id)
    service.require_open(ts, policy, now)
    response = RedirectResponse(f"/training/sessions/{ts.id}/checkin", status_code=303)
    response.set_cookie(
        checkin.SCAN_COOKIE,
        checkin.scan_proof(secret, ts.id, now),
        max_age=policy.training.checkin_confirm_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/training",
    )
    return response


def _checkin_page(
    request: Request,
    session: SessionDep,
    secret: str,
    user: User,
    ts: TrainingSession,
    *,
    done: bool = False,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    policy = load_policy(session)
    attendance = service.attendance_of(session, ts, user.id)
    scanned = checkin.scan_is_fresh(
        secret,
        request.cookies.get(checkin.SCAN_COOKIE),
        ts.id,
        clock.now(),
        policy.training.checkin_confirm_minutes * 60,
    )
    return render(
        request,
        "training/checkin.html",
        {
            "ts": ts,
            "school_name": service.school_name(session, ts),
            "attendance": attendance,
            "just_done": done,
            "allowed": service.may_attend(ts, user),
            "scanned": scanned,
            "problem": problem,
        },
        status=status,
    )


@pages.get("/training/sessions/{session_id}/checkin")
def checkin_page(
    request: Request, session_id: int, session: SessionDep, user: CurrentUser, secret: CheckinSecret
) -> Response:
    return _checkin_page(request, session, secret, user, service.get_training_session(session, session_id))


@pages.post("/training/sessions/{session_id}/checkin")
def confirm_checkin(
    request: Request, session_id: int, session: SessionDep, user: CurrentUser, secret: CheckinSecret
) -> Response:
    ts = service.get_training_session(session, session_id)
    policy = load_policy(session)
    fresh = checkin.scan_is_fresh(
        secret,
        request.cookies.get(checkin.SCAN_COOKIE),
        ts.id,
        clock.now(),
        policy.training.checkin_confirm_minutes * 60,
    )
    try:
        if service.attendance_of(session, ts, user.id) is None and not fresh:
            raise Conflict(_("Scan the code shown at the session first, then confirm here."))
        with session.begin_nested():
            created = service.check_in(session, user, ts)
    except (Conflict, Forbidden) as exc:
        problem = translate(request_locale(request), exc.message, **exc.params)
        return _checkin_page(request, session, secret, user, ts, problem=problem, status=exc.status_code)
    return _checkin_page(request, session, secret, user, ts, done=created)


@pages.get("/training/compliance")
def compliance_page(
    request: Request,
    session: SessionDep,
    user: AdminUser,
    year: str | None = None,
    school: str | None = None,
    page: str | None = None,
) -> Response:
    chosen = _year(year)
    policy = load_policy(session)
    grid = None
    if (school_id := lists.number(school)) is not None:
        schools = [compliance.school_in_scope(session, user, school_id)]
    elif user.role == Role.district_admin:
        grid = compliance.schools_page(session, user, lists.page_number(page))
        schools = grid.items
    else:
        schools = compliance.schools_in_scope(session, user)
    return render(
        request,
        "training/compliance.html",
        {
            "year": chosen,
            "rows": compliance.compliance(session, schools, chosen, policy),
            "single": grid is None,
            "grid": grid,
            "state_labels": compliance.STATE_LABELS,
            # Translated once for the district grid's 600 cells.
            "state_text": {k: translate(request_locale(request), v) for k, v in compliance.STATE_LABELS.items()},
            "needed": policy.training.monthly_school_sessions,
            "district": user.role == Role.district_admin,
        },
        block="results",
    )
