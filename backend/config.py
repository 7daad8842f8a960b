"""Portal settings, read once from the environment (and an optional `.env` file).

Policy numbers from the district plan (DOMAIN.md) are not here: they live in `backend.policies`, editable at run
time. This class holds what an operator sets at deploy time: where the database and media live, and secrets.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The value earlier releases published as the demo secret: refused everywhere, so an old .env cannot bring it back.
PUBLISHED_SECRET = "change-me-demo-secret"  # noqa: S105  # nosec B105 - a refused value, not a secret in use


class PasswordHashing(BaseSettings):
    """PASSWORD_HASH_*: idle-priority argon2 processes and sign-ins in progress at once per app process; sign-ins
    admitted a second (0: no limit) while the process serves at least BUSY_HEARTBEATS_PER_S heartbeats a second,
    and while it serves fewer (backend/accounts/hashing.py explains them; README, Configuration). A section of
    `Settings` that can be read on its own: the hashing pool is made at import, before any other setting is needed
    (reading the whole class may make the demo secret)."""

    model_config = SettingsConfigDict(env_prefix="PASSWORD_HASH_", env_file=".env", extra="ignore")

    processes: Annotated[int, Field(ge=0)] = 2
    queue: Annotated[int, Field(ge=0)] = 2
    per_s: Annotated[float, Field(ge=0)] = 5.0
    per_s_quiet: Annotated[float, Field(ge=0)] = 25.0
    busy_heartbeats_per_s: Annotated[float, Field(ge=0)] = 100.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{PROJECT_ROOT / 'data' / 'portal.db'}"
    demo_mode: bool = True
    # Signs CSRF tokens and the rotating check-in codes. Required outside demo mode; in demo mode, when unset, a random
    # one is made on the first run and kept in `secret_key_file`, so a restart keeps open forms valid and nobody can
    # forge a check-in code.
    secret_key: str = ""
    secret_key_file: Path = PROJECT_ROOT / "data" / "secret_key"

    storage_backend: Literal["local", "s3"] = "local"
    media_root: Path = PROJECT_ROOT / "data" / "media"
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "portal-media"
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    # Browser-facing host for presigned URLs when the app reaches storage by an internal name.
    s3_public_endpoint: str | None = None
    presigned_url_seconds: int = 300

    session_cookie_name: str = "portal_session"
    session_days: int = 14
    # Secure cookies need TLS; off for the embedded http://127.0.0.1 default, on behind a TLS proxy.
    cookie_secure: bool = False
    default_locale: Literal["zh_CN", "en"] = "zh_CN"

    # Sign-in: local accounts, the district's OpenID Connect provider (SSO), or both; either can be switched off.
    local_login_enabled: bool = True
    sso_enabled: bool = False
    oidc_issuer: str = ""  # e.g. https://id.songjiang.example; its /.well-known/openid-configuration is read
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scope: str = "openid profile"
    # The claim that names a portal teacher at first login, matched against TeacherProfile.staff_no (工号).
    oidc_link_claim: str = "staff_no"
    # Off: an unknown person is refused. On: a teacher account is created for them (the district decides).
    oidc_auto_create: bool = False
    # Roles whose accounts a first SSO sign-in may link by staff number (comma-separated). Any other account (an
    # admin's, a trainer's) is linked only by a district admin on its account page (issue 14: a staff number is no
    # proof of who holds an admin account, and an SSO sign-in skips the portal's second factor).
    oidc_auto_link_roles: str = "teacher"
    # The callback URL registered at the provider; by default derived from the request (set it behind a proxy).
    oidc_redirect_uri: str | None = None

    courses_dir: Path = PROJECT_ROOT / "courses"
    # The address printed in certificates' QR codes (e.g. https://bzr.example.cn); unset: the request's own host.
    public_base_url: str | None = None
    # The public certificate check (/verify/…): requests per client address per window, counted in the database.
    verify_rate_limit: int = 30
    verify_rate_window_seconds: int = 60

    # Password hashing: PASSWORD_HASH_* (the section below).
    password_hashing: PasswordHashing = Field(default_factory=PasswordHashing)

    # Operations (README, "Operating the portal"). Logs: one JSON object a line, or readable text for development.
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    # Successful heartbeats are counted in the metrics, not logged (thousands a second); on: one line each.
    log_heartbeats: bool = False
    # GET /metrics answers clients in these networks (comma-separated CIDR), or anyone with this bearer token.
    metrics_allow_networks: str = "127.0.0.0/8,::1/128"
    metrics_token: str = ""
    # Where `portal serve` keeps the workers' metric files (prometheus-client's multiprocess mode); emptied at start.
    metrics_dir: Path = PROJECT_ROOT / "data" / "metrics"

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.secret_key == PUBLISHED_SECRET:
            raise ValueError("SECRET_KEY is the value published in earlier releases: set a private random value")
        if not self.demo_mode and not self.secret_key:
            raise ValueError("SECRET_KEY must be set to a private random value when DEMO_MODE is off")
        if not self.demo_mode and len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters when DEMO_MODE is off")
        if not self.secret_key:
            self.secret_key = demo_secret(self.secret_key_file)
        if self.sso_enabled and not (self.oidc_issuer and self.oidc_client_id):
            raise ValueError("SSO_ENABLED needs OIDC_ISSUER and OIDC_CLIENT_ID")
        if not (self.sso_enabled or self.local_login_enabled):
            raise ValueError("LOCAL_LOGIN_ENABLED and SSO_ENABLED are both off: nobody could log in")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def demo_secret(path: Path) -> str:
    """The demo installation's own secret: read from `path`, or made there (readable by its owner only) on first use.

    Made under a temporary name and linked into place, so two processes starting together agree on one value."""
    try:
        return _checked(path, path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        temporary.unlink()
    return _checked(path, path.read_text(encoding="ascii").strip())


def _checked(path: Path, secret: str) -> str:
    # An emptied or hand-edited file must not sign forms with a guessable key.
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable secret (fewer than 32 characters): delete it to make a new one")
    return secret


# What every deployment of several replicas must set (deploy/compose.yaml and deploy/k8s; a test holds both to it):
# the defaults suit one machine with SQLite and a local folder, not replicas behind a proxy.
DEPLOY_REQUIRED = (
    "DATABASE_URL",  # PostgreSQL, shared by every replica
    "DEMO_MODE",  # false: no demo accounts, two-factor sign-in for admins
    "SECRET_KEY",  # the same on every replica (CSRF tokens, QR codes)
    "STORAGE_BACKEND",  # s3: one bucket for all replicas
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_BUCKET",
    "COOKIE_SECURE",  # true behind TLS
    "METRICS_TOKEN",  # Prometheus scrapes the replicas with it
    "METRICS_DIR",  # a writable folder of each container's own
    "LOG_FORMAT",
)
# Read from the environment besides this class's own fields: by uvicorn (`portal serve`) and the PASSWORD_HASH_*
# section (`PasswordHashing`).
OTHER_ENVIRONMENT = ("FORWARDED_ALLOW_IPS",)


def environment_names() -> set[str]:
    """Every environment variable the portal reads (a deployment that sets another has a typo or a stale name)."""
    return (
        {name.upper() for name in Settings.model_fields if name != "password_hashing"}
        | {f"PASSWORD_HASH_{name.upper()}" for name in PasswordHashing.model_fields}
        | set(OTHER_ENVIRONMENT)
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
