"""The district admin's page for integration tokens: create (the value is shown once), list with last use, revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from backend.accounts import tokens
from backend.accounts.deps import DistrictAdmin
from backend.db import SessionDep
from backend.kit.errors import InvalidInput
from backend.kit.i18n import translate
from backend.kit.web import is_htmx, redirect, render

pages = APIRouter(include_in_schema=False)
PATH = "/admin/tokens"


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _page(
    request: Request, session: SessionDep, *, status: int = 200, issued: tokens.IssuedToken | None = None,
    form: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    context = {
        "tokens": tokens.list_integration_tokens(session),
        "scopes": tokens.SCOPES,
        "state_labels": tokens.STATE_LABELS,
        "lifetimes": tokens.LIFETIME_DAYS,
        "issued": issued,
        "form": form or {"days": tokens.DEFAULT_LIFETIME_DAYS, "scopes": []},
        "errors": errors or {},
    }
    return render(request, "accounts/tokens.html", context, block="token_list", status=status)


@pages.get(PATH)
def tokens_page(request: Request, session: SessionDep, admin: DistrictAdmin) -> Response:
    return _page(request, session)


@pages.post(PATH)
def create_token(
    request: Request,
    session: SessionDep,
    admin: DistrictAdmin,
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "scopes": scopes or [], "days": days}
    try:
        lifetime = int(days)
    except ValueError:
        lifetime = 0
    try:
        issued = tokens.create_integration_token(
            session, admin, name=name, scopes=scopes or [], days=lifetime, address=_address(request)
        )
    except InvalidInput as exc:
        locale = request.state.locale
        errors = {k: translate(locale, v) for k, v in exc.fields.items()}
        return _page(request, session, status=422, form=form, errors=errors)
    # The full page, not a redirect: the value must not travel in a URL, and it is shown this once only.
    response = _page(request, session, status=201, issued=issued)
    response.headers["Cache-Control"] = "no-store"
    return response


@pages.post(PATH + "/{token_id}/revoke")
def revoke_token(request: Request, session: SessionDep, admin: DistrictAdmin, token_id: int) -> Response:
    tokens.revoke_integration_token(session, admin, token_id, address=_address(request))
    if is_htmx(request):
        return _page(request, session)
    return redirect(request, PATH)
