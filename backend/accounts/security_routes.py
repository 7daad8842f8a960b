"""Pages of a person's own security (password, two-factor sign-in, sessions), the second sign-in step, and the
admins' account pages (password reset, role change). Rules live in `backend.accounts.service`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from backend.accounts import oidc, service, totp
from backend.accounts.deps import AdminUser, CurrentUser, SessionCookie
from backend.accounts.models import AuthSession, Role, User
from backend.accounts.routes import client_address, set_session_cookie, stage_target
from backend.config import Settings
from backend.db import SessionDep
from backend.kit import lists
from backend.kit.errors import AppError, InvalidInput, NotFound
from backend.kit.i18n import _, translate
from backend.kit.state import SettingsDep, app_state
from backend.kit.web import redirect, render, same_origin_path
from backend.policies.service import load_policy

pages = APIRouter(include_in_schema=False)


def _field_errors(request: Request, exc: AppError) -> dict[str, str]:
    locale = request.state.locale
    errors = {k: translate(locale, v, **exc.params) for k, v in exc.fields.items()}
    if not errors:
        errors["form"] = translate(locale, exc.message, **exc.params)
    return errors


def _advance(  # type: ignore[no-untyped-def]
    request: Request, session: SessionDep, settings: Settings, auth: AuthSession, user: User, passed: str,
    next_url: str,
):  # fmt: skip
    new = service.advance_sign_in(
        session, auth, user, passed=passed, waive_admin_2fa=settings.demo_mode, address=client_address(request),
    )  # fmt: skip
    response = redirect(request, stage_target(new.stage, next_url))
    set_session_cookie(settings, response, new)
    return response


# --- the second step of a sign-in ----------------------------------------------------------------------------------


@pages.get("/login/2fa")
def second_factor_page(request: Request, session: SessionDep, cookie: SessionCookie, next: str = "/") -> Response:
    service.pending_sign_in(session, cookie, "mfa")
    return render(request, "accounts/second_factor.html", {"next": same_origin_path(next), "errors": {}})


@pages.post("/login/2fa")
def second_factor_submit(
    request: Request, session: SessionDep, settings: SettingsDep, cookie: SessionCookie,
    code: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/",
) -> Response:  # fmt: skip
    auth, user = service.pending_sign_in(session, cookie, "mfa")
    try:
        service.second_factor(session, auth, user, code, client_address(request))
    except AppError as exc:
        session.commit()  # the failure counts toward the lockout even though the page says no
        errors = {"code": translate(request.state.locale, exc.message, **exc.params)}
        return render(request, "accounts/second_factor.html", {"next": same_origin_path(next), "errors": errors},
                      status=exc.status_code)  # fmt: skip
    return _advance(request, session, settings, auth, user, "mfa", next)


# --- two-factor enrolment: voluntary from the account page, or required of admins at sign-in -------------------


def _enrolling(session: SessionDep, cookie: str | None) -> tuple[User, AuthSession | None]:
    """The user enrolling: signed in, or half-way through a sign-in that requires enrolment first."""
    user = service.user_for_session_token(session, cookie) if cookie else None
    if user is not None:
        return user, None
    auth, pending = service.pending_sign_in(session, cookie, "enrol")
    return pending, auth


def _enrol_context(settings: Settings, user: User, next_url: str, errors: dict[str, str]) -> dict[str, Any]:
    secret = totp.pending_secret(user)
    uri = totp.provisioning_uri(user, secret)
    return {
        "account": user, "qr": totp.qr_svg(uri), "next": same_origin_path(next_url), "errors": errors,
        # Groups of four, as authenticator apps show and accept them; the line wraps on a phone.
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        # Demo mode: the code of the moment, so `make run` users can enrol without an authenticator app.
        "demo_code": totp.current_code(secret) if settings.demo_mode else None,
    }  # fmt: skip


@pages.get("/account/2fa")
def enrol_page(
    request: Request, session: SessionDep, settings: SettingsDep, cookie: SessionCookie, next: str = "/account"
) -> Response:
    user, pending = _enrolling(session, cookie)
    if user.totp_enabled_at is not None:
        return redirect(request, "/account")
    context = _enrol_context(settings, user, next, {}) | {"pending": pending is not None}
    return render(request, "accounts/enrol.html", context)


@pages.post("/account/2fa")
def enrol_submit(  # nosec B107 - an empty form default, refused as a wrong password
    request: Request, session: SessionDep, settings: SettingsDep, cookie: SessionCookie,
    code: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/account", password: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    user, pending = _enrolling(session, cookie)
    try:
        # Inside a sign-in the password was just checked; a signed-in user confirms it (service.enable_totp).
        codes = service.enable_totp(
            session, user, code, client_address(request), password=None if pending is not None else password
        )
    except AppError as exc:
        context = _enrol_context(settings, user, next, _field_errors(request, exc)) | {"pending": pending is not None}
        return render(request, "accounts/enrol.html", context, status=exc.status_code)
    context = {"codes": codes, "next": same_origin_path(next)}
    if pending is None:
        return render(request, "accounts/recovery_codes.html", context)
    new = service.advance_sign_in(
        session, pending, user, passed="enrol", waive_admin_2fa=settings.demo_mode,
        address=client_address(request),
    )  # fmt: skip
    context["continue_to"] = stage_target(new.stage, next)
    response = render(request, "accounts/recovery_codes.html", context)
    set_session_cookie(settings, response, new)
    return response


@pages.post("/account/2fa/disable")
def disable_2fa(  # nosec B107 - an empty form default, refused as a wrong password
    request: Request, session: SessionDep, user: CurrentUser,
                password: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    try:
        service.disable_totp(session, user, password, client_address(request))
    except AppError as exc:
        return _account_page(request, session, user, _field_errors(request, exc), status=exc.status_code)
    return redirect(request, "/account")


# --- the account page: password, two-factor sign-in, sessions ---------------------------------------------------


def _account_page(request: Request, session: SessionDep, user: User, errors: dict[str, str], status: int = 200):  # type: ignore[no-untyped-def]
    sessions = session.scalar(
        select(func.count())
        .select_from(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.stage == "active")
    )
    return render(request, "accounts/account.html", {
        "account": user, "sessions": sessions, "errors": errors,
        "recovery_left": totp.recovery_codes_left(session, user) if user.totp_enabled_at else 0,
        **_token_context(session, user),
    }, status=status)  # fmt: skip


def _token_context(session: SessionDep, owner: User) -> dict[str, Any]:
    """The owner's personal API tokens with their state, for My account and the admin's page of the account."""
    policy = load_policy(session)
    return {"api_tokens": [(t, service.token_state(t, policy)) for t in service.personal_tokens(session, owner.id)]}


@pages.get("/account")
def account_page(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    return _account_page(request, session, user, {})


@pages.post("/account/logout-everywhere")
def logout_everywhere(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> Response:
    service.log_out_everywhere(session, user, client_address(request))
    response = redirect(request, "/login")
    response.delete_cookie(settings.session_cookie_name, path="/")
    return response


@pages.post("/account/tokens/{personal_token_id}/revoke")
def revoke_own_token(request: Request, personal_token_id: int, session: SessionDep, user: CurrentUser) -> Response:
    if not any(t.id == personal_token_id for t in service.personal_tokens(session, user.id)):
        raise NotFound(_("This token does not exist."))
    service.revoke_personal_token(session, user, personal_token_id, client_address(request))
    return redirect(request, "/account")


def _password_user(session: SessionDep, cookie: str | None) -> tuple[User, AuthSession | None]:
    user = service.user_for_session_token(session, cookie) if cookie else None
    if user is not None:
        return user, None
    auth, pending = service.pending_sign_in(session, cookie, "password")
    return pending, auth


@pages.get("/account/password")
def password_page(request: Request, session: SessionDep, cookie: SessionCookie, next: str = "/account") -> Response:
    user, pending = _password_user(session, cookie)
    return render(request, "accounts/password.html", {
        "forced": pending is not None, "next": same_origin_path(next), "errors": {},
        "min_length": load_policy(session).security.password_min_length,
    })  # fmt: skip


@pages.post("/account/password")
def password_submit(  # nosec B107 - empty form defaults, refused by the password policy
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    cookie: SessionCookie,
    current: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/account",
) -> Response:
    user, pending = _password_user(session, cookie)
    try:
        if password != confirm:
            raise InvalidInput(_("Please correct the marked fields."),
                               fields={"confirm": _("The two passwords are not the same.")})  # fmt: skip
        service.change_password(
            session, user, password, current=None if pending else current, address=client_address(request)
        )
    except AppError as exc:
        return render(request, "accounts/password.html", {
            "forced": pending is not None, "next": same_origin_path(next), "errors": _field_errors(request, exc),
            "min_length": load_policy(session).security.password_min_length,
        }, status=exc.status_code)  # fmt: skip
    if pending is not None:
        return _advance(request, session, settings, pending, user, "password_change", next)
    # The new password ended every session and token (service.change_password); this one gets a new id.
    new = service.start_session(session, user, method="password")
    response = redirect(request, "/account?changed=1")
    set_session_cookie(settings, response, new)
    return response


# --- admins: accounts of their scope ------------------------------------------------------------------------------


@pages.get("/admin/users")
def users_page(
    request: Request, session: SessionDep, admin: AdminUser, q: str | None = None, page: str | None = None
) -> Response:
    query = lists.text(q)
    result = service.accounts_page(session, admin, query=query, page=lists.page_number(page))
    return render(request, "accounts/users.html", {"page": result, "q": query}, block="results")


def _managed(session: SessionDep, admin: User, user_id: int) -> User:
    target = session.get(User, user_id)
    # Outside the admin's scope looks the same as missing: it tells nothing about other schools' staff.
    if target is None or not service.may_manage(admin, target):
        raise NotFound(_("This account does not exist."))
    return target


def _user_page(request: Request, target: User, admin: User, extra: dict[str, Any] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    settings = app_state(request).settings
    session = object_session(target)
    assert session is not None  # the target was just read in the request's session
    return render(request, "accounts/user.html", {
        "account": target, "roles": list(Role), "can_change_role": admin.role == Role.district_admin,
        "can_link_sso": settings.sso_enabled and admin.role == Role.district_admin
        and target.role not in oidc.auto_link_roles(settings),
        "errors": {}, **_token_context(session, target), **(extra or {}),
    }, status=status)  # fmt: skip


@pages.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: int, session: SessionDep, admin: AdminUser) -> Response:
    if user_id == admin.id:  # one's own account is managed on My account (no admin resets their own password)
        return redirect(request, "/account")
    return _user_page(request, _managed(session, admin, user_id), admin)


@pages.post("/admin/users/{user_id}/password-reset")
def reset_password(request: Request, user_id: int, session: SessionDep, admin: AdminUser) -> Response:
    target = _managed(session, admin, user_id)
    temporary = service.reset_password(session, admin, target, client_address(request))
    response = _user_page(request, target, admin, {"temporary": temporary})
    response.headers["Cache-Control"] = "no-store"  # the temporary password must not stay in any cache
    return response


@pages.post("/admin/users/{user_id}/tokens/{personal_token_id}/revoke")
def admin_revoke_token(
    request: Request, user_id: int, personal_token_id: int, session: SessionDep, admin: AdminUser
) -> Response:
    target = _managed(session, admin, user_id)
    if not any(t.id == personal_token_id for t in service.personal_tokens(session, target.id)):
        raise NotFound(_("This token does not exist."))
    service.revoke_personal_token(session, admin, personal_token_id, client_address(request))
    return redirect(request, f"/admin/users/{target.id}")


@pages.post("/admin/users/{user_id}/sso-link")
def link_sso(
    request: Request, user_id: int, session: SessionDep, settings: SettingsDep, admin: AdminUser,
    subject: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """A district admin links an account the first SSO sign-in may not link itself (an admin's, a trainer's)."""
    target = _managed(session, admin, user_id)
    try:
        oidc.link_identity(session, settings, admin, target, subject, client_address(request))
    except InvalidInput as exc:
        return _user_page(request, target, admin, {"errors": _field_errors(request, exc)}, status=422)
    return redirect(request, f"/admin/users/{target.id}")


@pages.post("/admin/users/{user_id}/role")
def change_role(
    request: Request, user_id: int, session: SessionDep, admin: AdminUser, role: Annotated[str, Form()] = ""
) -> Response:
    target = _managed(session, admin, user_id)
    service.change_role(session, admin, target, role, client_address(request))
    return redirect(request, f"/admin/users/{target.id}")
