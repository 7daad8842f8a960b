"""Accounts: creating users, signing in and out, resolving a session cookie or bearer token to a user.

A sign-in goes through stages kept on the session row (`AuthSession.stage`): the password opens a half-way
session ("mfa": a TOTP or recovery code is due; "enrol": an admin must set up two-factor sign-in first;
"password": a forced password change after an admin's reset); each step replaces it with a new session id, and
only an "active" session authenticates requests. Sessions end after `session_idle_minutes` without a request and
`session_absolute_hours` after sign-in, whatever happens (policy).
"""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from backend.accounts import credentials, scope, throttle, totp
from backend.accounts.credentials import Presented, Purpose, digest_token
from backend.accounts.models import ApiToken, AuthSession, Role, User
from backend.accounts.passwords import hash_password, needs_rehash, password_problem, verify_password
from backend.audit import describe as audit_describe
from backend.audit import service as audit
from backend.db import end_read_snapshot
from backend.kit import clock
from backend.kit.errors import AppError, Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound
from backend.kit.i18n import _
from backend.kit.pagination import Page, paginate
from backend.policies.service import Policy, load_policy

ADMIN_ROLES = frozenset({Role.school_admin, Role.district_admin})
# A half-way sign-in (second factor, enrolment, forced change) must be finished within this time.
PENDING_MINUTES = 10
STAGES = ("active", "mfa", "enrol", "password")


class TooManyAttempts(AppError):
    status_code = 429
    code = "too_many_attempts"


__all__ = ["digest_token"]  # re-exported: callers that store a hash of a new token use the same function


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: Role | str = Role.teacher,
    school_id: int | None = None,
) -> User:
    username = username.strip()
    errors: dict[str, str] = {}
    if not username or len(username) > 64:
        errors["username"] = _("Enter a username of 1 to 64 characters.")
    min_length = load_policy(session).security.password_min_length
    problem = password_problem(password, username, min_length)
    if problem:
        errors["password"] = problem
    if role not in set(Role):
        errors["role"] = _("Unknown role.")
    if errors:
        raise InvalidInput(_("Please correct the marked fields."), fields=errors, count=min_length)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(_("A user with this username already exists."))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=str(role),
        school_id=school_id,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def security_event(session: Session, action: str, user: User, *, address: str | None, **values: Any) -> None:
    """An audit event of something that happened to the user's own account, done by the user (ASVS 7.1.3)."""
    audit.record(
        session, action, actor_id=user.id, subject_type="user", subject_id=user.id, school_id=user.school_id,
        address=address, **values,
    )  # fmt: skip


def _refuse_if_locked(session: Session, keys: throttle.Keys) -> None:
    until = throttle.locked_until(session, keys)
    if until is not None:
        minutes = max(1, -(-int((until - clock.now()).total_seconds()) // 60))
        raise TooManyAttempts(
            _("Too many failed sign-in attempts. Please try again in %(minutes)s minutes."), minutes=minutes
        )


def _failed(session: Session, keys: throttle.Keys, user: User | None, address: str | None, why: str) -> None:
    policy = load_policy(session)

    def record(action: str, **values: Any) -> None:
        if user is not None:
            security_event(session, action, user, address=address, **values)
        else:  # an unknown name is not written down: it may be a password typed into the wrong field
            audit.record(session, action, actor_id=None, address=address, **values)

    record("auth.login_failed", after={"reason": why})
    minutes = throttle.record_failure(session, keys, policy)
    if minutes:
        record("auth.lockout", after={"minutes": minutes})


def authenticate(
    session: Session, username: str, password: str, address: str | None = None,
    admission: AbstractContextManager[None] | None = None,
) -> User:  # fmt: skip
    """The user for these credentials. One message for every failure, so it reveals no account's existence.

    The lockout is checked before `admission` (the sign-in's place in the hashing pool) is taken, so a locked-out
    client spends none. Failures are counted (and audited) in `session`: the caller must commit even when this
    raises.
    """
    keys = throttle.Keys.of(username, address)
    _refuse_if_locked(session, keys)
    with admission or nullcontext():
        user = session.scalar(select(User).where(User.username == username.strip()))
        end_read_snapshot(session)  # SQLite: the writes below come after the hash, on a snapshot of their own
        ok = verify_password(user.password_hash if user else None, password)
    if not user or not ok or not user.is_active:
        _failed(session, keys, user, address, "password")
        raise NotAuthenticated(_("Username or password is incorrect."))
    throttle.record_success(session, keys)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # today's argon2 parameters, now that we know the password
    return user


# --- sessions ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str
    max_age_seconds: int
    stage: str


def stage_after(user: User, *, method: str, waive_admin_2fa: bool, passed: str, policy: Policy) -> str:
    """The next stage of a sign-in once `passed` ("password", "sso", "mfa", "enrol" or "password_change")."""
    if passed in ("password", "sso") and method == "password":
        if user.totp_enabled_at is not None:
            return "mfa"
        if user.role in ADMIN_ROLES and policy.security.admin_totp_required and not waive_admin_2fa:
            return "enrol"
    if user.must_change_password and passed != "password_change":
        return "password"
    return "active"


def start_session(
    session: Session, user: User, days: int | None = None, *, method: str = "password", stage: str = "active"
) -> NewSession:
    """A new session id (never a reused one: ASVS 3.2.1). `days` is ignored: the policy's absolute timeout rules."""
    policy = load_policy(session)
    token = secrets.token_urlsafe(32)
    now = clock.now()
    absolute = timedelta(hours=policy.security.session_absolute_hours)
    lifetime = timedelta(minutes=PENDING_MINUTES) if stage != "active" else absolute
    session.add(
        AuthSession(
            token_hash=digest_token(token), user_id=user.id, created_at=now, expires_at=now + lifetime,
            last_seen_at=now, auth_method=method, stage=stage,
        )
    )  # fmt: skip
    session.flush()
    return NewSession(token=token, max_age_seconds=int(lifetime.total_seconds()), stage=stage)


def begin_sign_in(
    session: Session, user: User, *, method: str, waive_admin_2fa: bool, address: str | None = None
) -> NewSession:
    """After the password (or SSO) was right: a session in the stage that comes next, and the audit event."""
    stage = stage_after(
        user, method=method, waive_admin_2fa=waive_admin_2fa, passed=method, policy=load_policy(session)
    )
    action = "auth.login" if stage == "active" else "auth.login_password_ok"
    security_event(session, action, user, after={"method": method, "stage": stage}, address=address)
    return start_session(session, user, method=method, stage=stage)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(AuthSession).where(AuthSession.token_hash == digest_token(token)))


def log_out(session: Session, token: str | None, user: User | None, address: str | None) -> None:
    end_session(session, token)
    if user is not None:
        security_event(session, "auth.logout", user, address=address)


def log_out_everywhere(session: Session, user: User, address: str | None) -> None:
    count = end_all_sessions(session, user.id)
    security_event(session, "auth.logout_everywhere", user, after={"sessions": count}, address=address)


def end_all_sessions(session: Session, user_id: int) -> int:
    """ "Log out everywhere": every browser session and every personal API token of the user end now."""
    return credentials.end_all(session, user_id)


def user_for_session_token(session: Session, token: str) -> User | None:
    """The signed-in user behind a session cookie (backend.accounts.credentials decides), or None."""
    return credentials.resolve(session, Presented.of(None, token), Purpose.page, load_policy(session))


def pending_sign_in(session: Session, token: str | None, *stages: str) -> tuple[AuthSession, User]:
    """The half-way sign-in behind this cookie, in one of `stages`; refused when there is none (or it expired)."""
    row = (
        session.execute(
            select(AuthSession, User).join(User, User.id == AuthSession.user_id)
            .where(AuthSession.token_hash == digest_token(token))
        ).first()
        if token
        else None
    )  # fmt: skip
    if row is None or row[0].stage not in stages or row[0].expires_at <= clock.now() or not row[1].is_active:
        raise NotAuthenticated(_("Your sign-in has expired. Please log in again."))
    return row[0], row[1]


def advance_sign_in(
    session: Session, auth: AuthSession, user: User, *, passed: str, waive_admin_2fa: bool, address: str | None
) -> NewSession:
    """A step of the sign-in is done: the half-way session is replaced by one in the next stage (a new id)."""
    stage = stage_after(
        user, method=auth.auth_method, waive_admin_2fa=waive_admin_2fa, passed=passed, policy=load_policy(session)
    )
    method = auth.auth_method
    session.delete(auth)
    if stage == "active":
        security_event(session, "auth.login", user, after={"method": method, "second_step": passed}, address=address)
    return start_session(session, user, method=method, stage=stage)


def second_factor(session: Session, auth: AuthSession, user: User, code: str, address: str | None) -> None:
    """Checks a TOTP or recovery code for a half-way sign-in; failures count toward the login lockout."""
    keys = throttle.Keys.of(user.username, address)
    _refuse_if_locked(session, keys)
    if totp.check_code(user, code):
        return
    if len(code.strip()) > 6 and totp.use_recovery_code(session, user, code.strip()):
        security_event(
            session,
            "auth.recovery_code_used",
            user,
            after={"left": totp.recovery_codes_left(session, user)},
            address=address,
        )
        return
    _failed(session, keys, user, address, "second_factor")
    raise NotAuthenticated(_("The code is not correct. Please try again."))


# --- passwords -----------------------------------------------------------------------------------------------------


def change_password(session: Session, user: User, new: str, *, current: str | None, address: str | None) -> None:
    """The user sets a new password; `current` is required unless this is the forced change after a reset."""
    policy = load_policy(session)
    if current is not None and not verify_password(user.password_hash, current):
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"current": _("The password is not correct.")}
        )
    min_length = policy.security.password_min_length
    problem = password_problem(new, user.username, min_length)
    if problem:
        raise InvalidInput(_("Please correct the marked fields."), fields={"password": problem}, count=min_length)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = clock.now()
    # Every other credential ends (ASVS 3.3.3). The forced change after a reset: the reset already ended them,
    # and the half-way session of this sign-in goes on to its next step.
    credentials.end_all(session, user.id, sessions=current is not None)
    security_event(session, "auth.password_changed", user, after={"forced": current is None}, address=address)
    session.flush()


def may_manage(actor: User, target: User) -> bool:
    """District admins manage any account; school admins the teachers of their own school (issue 6)."""
    if actor.id == target.id:
        return False
    if actor.role == Role.district_admin:
        return True
    return target.role == Role.teacher and scope.in_school_scope(actor, target)


def accounts_page(session: Session, actor: User, *, query: str = "", page: int = 1) -> Page[User]:
    """The accounts an admin may open, by username: a district admin every account, a school admin the teachers of
    their school (the same rule as `may_manage`); `query` matches the username or the name."""
    accounts = select(User)
    if actor.role != Role.district_admin:
        accounts = accounts.where(scope.school_scope(actor), User.role == Role.teacher)
    if query.strip():
        like = f"%{query.strip()}%"
        accounts = accounts.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return paginate(session, accounts.order_by(User.username), page, scalars=True)


def reset_password(session: Session, actor: User, target: User, address: str | None) -> str:
    """An admin sets a temporary password: returned once, to be changed at the next sign-in. Ends all sessions."""
    if not may_manage(actor, target):
        raise Forbidden(_("You may not reset this account's password."))
    temporary = "-".join(secrets.token_urlsafe(9) for _ in range(2))
    target.password_hash = hash_password(temporary)
    target.must_change_password = True
    end_all_sessions(session, target.id)
    audit.record(
        session, "auth.password_reset", actor_id=actor.id, subject_type="user", subject_id=target.id,
        school_id=target.school_id, after={"forced_change": True}, address=address,
    )  # fmt: skip
    session.flush()
    return temporary


def change_role(session: Session, actor: User, target: User, role: str, address: str | None) -> None:
    """A district admin changes an account's role. The account's sessions end: new rights mean a new session."""
    if actor.role != Role.district_admin or actor.id == target.id:
        raise Forbidden(_("Your role does not allow this."))
    if role not in set(Role):
        raise InvalidInput(_("Please correct the marked fields."), fields={"role": _("Unknown role.")})
    before = target.role
    if before == role:
        return
    target.role = role
    end_all_sessions(session, target.id)
    audit.record(
        session, "auth.role_changed", actor_id=actor.id, subject_type="user", subject_id=target.id,
        school_id=target.school_id, before={"role": before}, after={"role": role}, address=address,
    )  # fmt: skip
    session.flush()


# --- two-factor enrolment ------------------------------------------------------------------------------------------


def enable_totp(session: Session, user: User, code: str, address: str | None, *, password: str | None) -> list[str]:
    """Confirms the pending secret with a code from the authenticator; returns the ten recovery codes (once).

    A signed-in user gives the password too (ASVS 3.7.1, as for turning it off): a stolen session alone must not
    tie the account to the thief's authenticator. `password=None` only for the enrolment inside a sign-in, whose
    password step was checked moments ago on the same half-way session."""
    if user.totp_enabled_at is not None:
        raise Conflict(_("Two-factor sign-in is already on."))
    if password is not None and not verify_password(user.password_hash, password):
        # Checked before the code, so a wrong password does not use the code up.
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"current": _("The password is not correct.")}
        )
    if not totp.check_code(user, code):
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"code": _("The code is not correct. Please try again.")}
        )
    user.totp_enabled_at = clock.now()
    # Tokens made with the password alone would go on skipping the new second factor.
    credentials.end_all(session, user.id, sessions=False)
    codes = totp.new_recovery_codes(session, user)
    security_event(session, "auth.2fa_enrolled", user, address=address)
    return codes


def disable_totp(session: Session, user: User, password: str, address: str | None) -> None:
    if not verify_password(user.password_hash, password):
        raise InvalidInput(
            _("Please correct the marked fields."), fields={"current": _("The password is not correct.")}
        )
    totp.disable(session, user)
    security_event(session, "auth.2fa_disabled", user, address=address)


# --- API tokens ----------------------------------------------------------------------------------------------------


def create_api_token(session: Session, user: User, name: str) -> str:
    """A personal API token (`sjp_…`): /api/v1 only, and the session limits apply (backend.accounts.credentials)."""
    token = "sjp_" + secrets.token_urlsafe(32)
    now = clock.now()
    session.add(
        ApiToken(
            user_id=user.id,
            name=name[:100],
            token_hash=digest_token(token),
            created_at=now,
            expires_at=now + timedelta(hours=load_policy(session).security.session_absolute_hours),
        )
    )
    session.flush()
    return token


def personal_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """The user's personal API tokens, newest first, for the account page (and the admin's page of the user)."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.scopes.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(50)
    ))  # fmt: skip


def token_state(token: ApiToken, policy: Policy) -> str:
    """active | expired | revoked, by the same limits the credential check applies."""
    if token.revoked_at is not None:
        return "revoked"
    now = clock.now()
    row = {"is_active": True, "revoked_at": None, "expires_at": token.expires_at, "scopes": token.scopes,
           "role": None, "user_id": token.user_id, "credential_id": token.id, "created_at": token.created_at,
           "last_used_at": token.last_used_at}  # fmt: skip
    verdict = credentials.decide(row, bearer=True, now=now, policy=policy)
    return "active" if isinstance(verdict, credentials.Grant) else "expired"


def revoke_personal_token(session: Session, actor: User, token_id: int, address: str | None) -> None:
    """The owner, or an admin who manages the owner's account, ends one personal token. Audited."""
    token = session.get(ApiToken, token_id)
    owner = session.get(User, token.user_id) if token is not None and token.scopes is None else None
    if token is None or owner is None or (owner.id != actor.id and not may_manage(actor, owner)):
        raise NotFound(_("This token does not exist."))
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(
            session, "token.revoke", actor_id=actor.id, subject_type="user", subject_id=owner.id,
            school_id=owner.school_id, after={"token": token.id, "name": token.name}, address=address,
        )  # fmt: skip
    session.flush()


def names_by_id(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Display name and login of these accounts (one query), e.g. for the actors on a page of the audit log."""
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids)))
    return {uid: (name, login) for uid, name, login in rows}


def ids_named(session: Session, username: str) -> list[int]:
    """The account with this login, as a list of ids (empty when there is none), for filtering by it."""
    return list(session.scalars(select(User.id).where(User.username == username.strip())))


def _audit_users(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    numbers = {int(i) for i in ids if i.isdigit()}
    return {
        str(uid): audit_describe.Subject(f"{name}（{login}）", f"/admin/users/{uid}")
        for uid, (name, login) in names_by_id(session, numbers).items()
    }


def _audit_teachers(session: Session, ids: list[str]) -> dict[str, audit_describe.Subject]:
    return {k: audit_describe.Subject(v.name, f"/admin/teachers/{k}") for k, v in _audit_users(session, ids).items()}


# How the audit log names accounts and teachers (audit sits below accounts and imports nothing of it).
audit_describe.register_subject("user", _audit_users)
audit_describe.register_subject("teacher", _audit_teachers)
