"""Single sign-on through the district's OpenID Connect provider, with Authlib.

    begin_login()   a row in `sso_login_attempts` (state, nonce, PKCE verifier, bound to this browser by a cookie)
                    and the provider's authorization URL (code flow, S256 code challenge)
    finish_login()  at the callback: the attempt is looked up by state and deleted (one use), the browser checked,
                    the code exchanged with the verifier, the ID token's signature checked against the provider's
                    keys and its claims (iss, aud, azp, exp, iat, nonce) verified; then the portal user it names
    provider_logout_url()  RP-initiated logout, when the provider has an end_session_endpoint

A provider's subject (`iss` + `sub`) is linked to a portal account at its first login by a configured claim
(OIDC_LINK_CLAIM, default `staff_no`) matched against the teacher record's staff number; an unknown person is
refused unless OIDC_AUTO_CREATE is on. Nothing of a login in flight is held in process memory, so the callback
may reach any replica; only the provider's metadata and keys are cached per process.

Refusals raise `SsoRefused`, which the callback renders on the login page (and commits: a refused attempt stays
used up).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from backend.accounts.models import AuthSession, Role, User
from backend.accounts.service import digest_token
from backend.accounts.sso_models import SsoLoginAttempt, UserIdentity
from backend.audit import service as audit
from backend.config import Settings
from backend.kit import clock
from backend.kit.errors import AppError, Conflict, Forbidden, InvalidInput
from backend.kit.i18n import _

log = logging.getLogger("portal.sso")

ATTEMPT_MINUTES = 10  # how long the provider's login page may take before the user must start again
BROWSER_COOKIE = "portal_sso"
# Signatures from the provider's published keys only: no "none", no shared-secret HMAC.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
CLOCK_LEEWAY_SECONDS = 60


class StaffDirectory(Protocol):
    """The teacher records behind single sign-on: who a staff number (工号) belongs to, and the record a new account
    starts with. People owns both; the app hands its directory over (`use_directory`, in app.py), so accounts, a
    floor below nothing it needs here, imports nothing of people."""

    def user_with_staff_no(self, session: Session, staff_no: str) -> User | None: ...

    def start_record(self, session: Session, user: User, staff_no: str | None) -> object: ...


_directory: StaffDirectory | None = None


def use_directory(directory: StaffDirectory) -> None:
    global _directory
    _directory = directory


def _staff_directory() -> StaffDirectory:
    if _directory is None:
        raise RuntimeError("single sign-on has no staff directory: call oidc.use_directory (app.py does)")
    return _directory


class SsoRefused(AppError):
    """Nobody is logged in; `message` says why (shown on the login page)."""

    status_code = 403
    code = "sso_refused"


class SsoUnavailable(SsoRefused):
    status_code = 503
    code = "sso_unavailable"


class OidcClient(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's relying-party client (discovery, authorization URL, token exchange, JWKS) over httpx, without a
    web framework: the state data Authlib would keep in a framework session is kept in `sso_login_attempts`."""

    client_cls = OAuth2Client


_clients: dict[tuple[str, str, str, str], OidcClient] = {}


def client_for(settings: Settings) -> OidcClient:
    key = (settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_scope)
    client = _clients.get(key)
    if client is None:
        client = OidcClient(
            framework=None,
            name="district",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret or None,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256", "timeout": 10.0},
        )
        _clients[key] = client
    return client


def _metadata(settings: Settings) -> dict[str, Any]:
    client = client_for(settings)
    try:
        metadata = client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        log.error("OIDC discovery at %s failed: %s", settings.oidc_issuer, exc)
        raise SsoUnavailable(_("The unified identity service cannot be reached. Please try again later.")) from exc
    # OpenID Connect Discovery 1.0 §4.3: the issuer in the document must be the one configured.
    if str(metadata.get("issuer", "")).rstrip("/") != settings.oidc_issuer.rstrip("/"):
        log.error("OIDC issuer mismatch: configured %s, provider says %s", settings.oidc_issuer, metadata.get("issuer"))
        raise SsoUnavailable(_("The unified identity service is misconfigured. Please tell the portal administrator."))
    return metadata


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class LoginStart:
    authorization_url: str
    browser_secret: str  # goes into the BROWSER_COOKIE; only its hash is stored


def begin_login(session: Session, settings: Settings, *, redirect_uri: str, next_url: str) -> LoginStart:
    _metadata(settings)  # reachable, and the issuer it names is the one configured
    now = clock.now()
    session.execute(delete(SsoLoginAttempt).where(SsoLoginAttempt.expires_at < now))
    state, nonce, browser = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = generate_token(64)  # RFC 7636 §4.1: 43 to 128 characters
    # Authlib adds the S256 code challenge for the verifier, and the nonce, to the provider's authorization URL.
    url = client_for(settings).create_authorization_url(redirect_uri, state=state, nonce=nonce, code_verifier=verifier)[
        "url"
    ]
    session.add(
        SsoLoginAttempt(
            state_hash=_hash(state),
            browser_hash=_hash(browser),
            nonce=nonce,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            next_url=next_url,
            created_at=now,
            expires_at=now + timedelta(minutes=ATTEMPT_MINUTES),
        )
    )
    session.flush()
    return LoginStart(authorization_url=url, browser_secret=browser)


@dataclass(frozen=True)
class LoginDone:
    user: User
    next_url: str


def _take_attempt(session: Session, state: str | None, browser_secret: str | None) -> SsoLoginAttempt:
    """The attempt this callback answers, used up. Refused: unknown or used state, another browser, too late."""
    attempt = session.scalar(select(SsoLoginAttempt).where(SsoLoginAttempt.state_hash == _hash(state or "")))
    if attempt is None:
        raise SsoRefused(_("This sign-in link is not valid or has already been used. Please sign in again."))
    # One use: of two callbacks racing on the same state, the second deletes nothing and is refused.
    deleted = session.execute(delete(SsoLoginAttempt).where(SsoLoginAttempt.id == attempt.id)).rowcount  # type: ignore[attr-defined]
    if deleted != 1:
        raise SsoRefused(_("This sign-in link is not valid or has already been used. Please sign in again."))
    if not browser_secret or not hmac.compare_digest(attempt.browser_hash, _hash(browser_secret)):
        raise SsoRefused(_("This sign-in was started in another browser. Please sign in again."))
    if attempt.expires_at <= clock.now():
        raise SsoRefused(_("The sign-in took too long. Please sign in again."))
    return attempt


def verify_id_token(
    settings: Settings, id_token: str, *, nonce: str, access_token: str | None = None
) -> dict[str, Any]:
    """The ID token's claims, after its signature (provider keys) and claims (iss, aud, azp, exp, iat, nonce and,
    with an access token, at_hash) checked against this portal's client and the server clock."""
    metadata = _metadata(settings)
    client = client_for(settings)
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    registry = JWSRegistry(algorithms=[a for a in offered if a in ASYMMETRIC_ALGORITHMS], strict_check_header=False)
    try:
        try:
            token = jwt.decode(id_token, key=KeySet.import_key_set(client.fetch_jwk_set()), registry=registry)
        except InvalidKeyIdError:  # the provider rotated its keys since we cached them
            token = jwt.decode(id_token, key=KeySet.import_key_set(client.fetch_jwk_set(force=True)), registry=registry)
        options = {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": settings.oidc_client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        params = {"nonce": nonce, "client_id": settings.oidc_client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(token.claims, token.header, options, params)
        claims.validate(now=int(clock.now().timestamp()), leeway=CLOCK_LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        log.warning("ID token refused: %s", exc)
        raise SsoRefused(
            _("The answer of the unified identity service could not be verified. Please sign in again.")
        ) from exc
    except httpx.HTTPError as exc:
        log.error("OIDC keys at %s unavailable: %s", metadata.get("jwks_uri"), exc)
        raise SsoUnavailable(_("The unified identity service cannot be reached. Please try again later.")) from exc
    return dict(claims)


def _exchange_code(settings: Settings, attempt: SsoLoginAttempt, code: str) -> dict[str, Any]:
    client = client_for(settings)
    try:
        token: dict[str, Any] = client.fetch_access_token(
            redirect_uri=attempt.redirect_uri, code=code, code_verifier=attempt.code_verifier
        )
    except OAuthError as exc:
        # invalid_grant: a code used before, issued to another client, or for another verifier.
        log.warning("OIDC token exchange refused: %s %s", exc.error, exc.description)
        raise SsoRefused(_("The unified identity service did not accept this sign-in. Please sign in again.")) from exc
    except httpx.HTTPError as exc:
        log.error("OIDC token endpoint unavailable: %s", exc)
        raise SsoUnavailable(_("The unified identity service cannot be reached. Please try again later.")) from exc
    if not token.get("id_token"):
        raise SsoRefused(_("The unified identity service did not accept this sign-in. Please sign in again."))
    return token


def _userinfo(settings: Settings, token: dict[str, Any], subject: str) -> dict[str, Any]:
    """Claims from the userinfo endpoint, for providers that put the link claim there only."""
    endpoint = _metadata(settings).get("userinfo_endpoint")
    if not endpoint:
        return {}
    try:
        response = httpx.get(endpoint, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10.0)
        response.raise_for_status()
        info: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("OIDC userinfo unavailable: %s", exc)
        return {}
    # OIDC Core §5.3.2: the userinfo `sub` must be the ID token's, or the answer is not about this person.
    return info if info.get("sub") == subject else {}


def finish_login(
    session: Session,
    settings: Settings,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    browser_secret: str | None,
    address: str | None,
) -> LoginDone:
    try:
        if error:
            # The person cancelled (or the provider refused) at the provider; nobody is logged in either way, so
            # the answer needs no checks. Its attempt, when the provider sent the state back, is used up.
            session.execute(delete(SsoLoginAttempt).where(SsoLoginAttempt.state_hash == _hash(state or "")))
            raise SsoRefused(_("The sign-in was cancelled at the unified identity service."))
        attempt = _take_attempt(session, state, browser_secret)
        if not code:
            raise SsoRefused(_("This sign-in link is not valid or has already been used. Please sign in again."))
        token = _exchange_code(settings, attempt, code)
        claims = verify_id_token(
            settings, token["id_token"], nonce=attempt.nonce, access_token=token.get("access_token")
        )
        if settings.oidc_link_claim not in claims:
            claims = _userinfo(settings, token, claims["sub"]) | claims
        user = _user_for(session, settings, claims, address)
    except SsoRefused as exc:
        # Every refused sign-in is a security event; the reason is the English message, without its parameters.
        audit.record(
            session, "auth.sso_refused", actor_id=None, after={"reason": exc.message, "status": exc.status_code},
            address=address,
        )  # fmt: skip
        raise
    return LoginDone(user=user, next_url=attempt.next_url)


def _user_for(session: Session, settings: Settings, claims: dict[str, Any], address: str | None) -> User:
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    now = clock.now()
    identity = session.scalar(
        select(UserIdentity).where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    )
    if identity is not None:
        user = session.get(User, identity.user_id)
        if user is None or not user.is_active:
            raise SsoRefused(_("This portal account is disabled. Please contact your school administrator."))
        identity.last_login_at = now
        return user

    raw = claims.get(settings.oidc_link_claim)
    link_value = str(raw).strip() if raw is not None and not isinstance(raw, dict | list) else ""
    user = _staff_directory().user_with_staff_no(session, link_value) if link_value else None
    if user is not None:
        if not user.is_active:
            raise SsoRefused(_("This portal account is disabled. Please contact your school administrator."))
        if user.role not in auto_link_roles(settings):
            raise SsoRefused(
                _("This account can be linked to your unified identity only by a district administrator. "
                  "Please contact the district.")
            )  # fmt: skip
        taken = session.scalar(
            select(UserIdentity.id).where(UserIdentity.user_id == user.id, UserIdentity.issuer == issuer)
        )
        if taken is not None:
            raise SsoRefused(
                _("This teacher is already linked to another unified identity account. Please contact the district.")
            )
        action = "auth.sso_linked"
    elif settings.oidc_auto_create:
        user = _create_user(session, claims, link_value)
        action = "auth.sso_created"
    else:
        if link_value:
            raise SsoRefused(
                _(
                    "No portal account has the staff number %(staff_no)s. Please ask your school administrator "
                    "to record your staff number in your teacher record, then sign in again."
                ),
                staff_no=link_value,
            )
        raise SsoRefused(
            _(
                "Your unified identity account carries no staff number, so it cannot be matched to a portal "
                "account. Please contact your school administrator."
            )
        )
    session.add(UserIdentity(user_id=user.id, issuer=issuer, subject=subject, created_at=now, last_login_at=now))
    session.flush()
    audit.record(
        session,
        action,
        actor_id=user.id,
        subject_type="user",
        subject_id=user.id,
        school_id=user.school_id,
        after={"issuer": issuer},
        address=address,
    )
    return user


def auto_link_roles(settings: Settings) -> frozenset[str]:
    return frozenset(r.strip() for r in settings.oidc_auto_link_roles.split(",") if r.strip())


def link_identity(session: Session, settings: Settings, actor: User, target: User, subject: str,
                  address: str | None) -> None:  # fmt: skip
    """A district admin links an account to the provider's subject (`sub`, as the provider's console shows it):
    the only way for the roles a first sign-in may not link itself (`OIDC_AUTO_LINK_ROLES`). Audited."""
    if actor.role != Role.district_admin or actor.id == target.id:
        raise Forbidden(_("Your role does not allow this."))
    subject = subject.strip()
    if not subject or len(subject) > 255 or any(ord(c) < 32 for c in subject):
        raise InvalidInput(_("Please correct the marked fields."),
                           fields={"subject": _("Enter the account's subject (sub) at the provider.")})  # fmt: skip
    issuer = settings.oidc_issuer
    taken = session.scalar(
        select(UserIdentity.id).where(
            or_(and_(UserIdentity.issuer == issuer, UserIdentity.subject == subject),
                and_(UserIdentity.issuer == issuer, UserIdentity.user_id == target.id))
        )
    )  # fmt: skip
    if taken is not None:
        raise Conflict(_("This account or this unified identity is already linked."))
    session.add(UserIdentity(user_id=target.id, issuer=issuer, subject=subject, created_at=clock.now()))
    session.flush()
    audit.record(
        session, "auth.sso_linked_by_admin", actor_id=actor.id, subject_type="user", subject_id=target.id,
        school_id=target.school_id, after={"issuer": issuer}, address=address,
    )  # fmt: skip


def _create_user(session: Session, claims: dict[str, Any], staff_no: str) -> User:
    base = f"sso-{staff_no}" if staff_no else f"sso-{_hash(str(claims['sub']))[:12]}"
    username = base[:64]
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        username = f"{base[:55]}-{uuid.uuid4().hex[:8]}"
    name = str(claims.get("name") or claims.get("preferred_username") or staff_no or username)[:64]
    user = User(
        username=username,
        display_name=name,
        password_hash=None,
        role=Role.teacher,
        school_id=None,
        is_active=True,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    _staff_directory().start_record(session, user, staff_no or None)
    return user


def provider_logout_url(
    session: Session, settings: Settings, session_token: str | None, post_logout_redirect_uri: str
) -> str | None:
    """Where to send the browser after the local logout: the provider's end_session_endpoint for an SSO session
    (OpenID Connect RP-Initiated Logout 1.0), else None. Looked up before the local session is deleted."""
    if not (settings.sso_enabled and session_token):
        return None
    method = session.scalar(
        select(AuthSession.auth_method).where(AuthSession.token_hash == digest_token(session_token))
    )
    if method != "sso":
        return None
    try:
        metadata = _metadata(settings)
    except SsoRefused:
        return None  # the provider is down: the local session ends all the same
    if not metadata.get("end_session_endpoint"):
        return None
    result = client_for(settings).create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri, client_id=settings.oidc_client_id
    )
    return str(result["url"])


def require_local_login(settings: Settings) -> None:
    """For password logins: refused when the district signs in through SSO only."""
    if not settings.local_login_enabled:
        raise Forbidden(_("Sign-in with a portal password is switched off. Please use unified identity sign-in."))
