"""Settings, read from the environment with the ``SAFESLOT_`` prefix.

Nested sections use ``__`` as delimiter: ``SAFESLOT_DATABASE__URL``,
``SAFESLOT_LOG__SIGNING_KEY_FILE``. ``create_app(settings)`` takes a Settings
object, so tests build their own and nothing reads the environment behind
their back.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")
PROJECT_DIR = Path(__file__).resolve().parents[2]  # the checkout: policies/ and migrations/ live here


class Environment(StrEnum):
    development = "development"
    demo = "demo"
    test = "test"
    production = "production"


class DatabaseSettings(BaseModel):
    url: str = Field(
        default=f"sqlite:///{VAR_DIR / 'safeslot.db'}",
        description="SQLAlchemy URL. SQLite (WAL) by default; postgresql+psycopg://… in production.",
    )
    pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept per process (PostgreSQL).")
    echo: bool = Field(default=False, description="Log SQL statements (never in production: values may be personal).")


class ServerSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to listen on.")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Request bodies above this size are refused with 413."
    )
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024 + 64 * 1024,
        ge=1024,
        description="Limit for multipart uploads (instrument documents: 10 MiB plus form overhead).",
    )
    public_url: str = Field(default="http://127.0.0.1:8000", description="Base URL people reach.")


class CryptoSettings(BaseModel):
    key_file: Path = Field(
        default=VAR_DIR / "keys" / "field-keys.json",
        description="File holding the field-encryption master keys (never the database).",
    )
    keys: str | None = Field(
        default=None,
        description="Alternative to key_file: the key-ring JSON itself, e.g. from a secrets manager.",
    )


class LogSettings(BaseModel):
    origin: str = Field(
        default="safeslot.localhost/log",
        description="C2SP tlog-checkpoint origin line: a unique name for this log.",
    )
    signing_key_file: Path = Field(
        default=VAR_DIR / "keys" / "log-signing.key",
        description="C2SP signed-note private key file, written by `safeslot log keygen`.",
    )
    witnesses: list[str] = Field(
        default_factory=list,
        description="Witnesses as 'URL vkey' strings; each new checkpoint is submitted to them.",
    )


class RetentionSettings(BaseModel):
    contact_days: int = Field(default=30, ge=0, description="Days after a visit until contact details are deleted.")
    appointment_days: int = Field(default=365, ge=1, description="Days after a visit until the appointment is purged.")


class OidcSettings(BaseModel):
    """OpenID Connect sign-in for staff of agencies with an identity provider (identity/oidc.py)."""

    issuer: str | None = Field(
        default=None, description="Issuer URL (https://idp.example/realms/x). Unset: OIDC sign-in is off (404)."
    )
    client_id: str = Field(default="", description="Client id registered with the identity provider.")
    client_secret: str = Field(default="", description="Client secret (confidential client, client_secret_basic).")
    scopes: str = Field(default="openid email", description="Space-separated scopes; must include openid.")
    link_claim: str = Field(
        default="sub",
        description="ID token claim whose value must equal a staff account's oidc_subject (sub, or email if the "
        "provider marks it verified). Accounts are only linked, never created.",
    )
    redirect_url: str | None = Field(
        default=None, description="Callback URL registered at the provider (default: public_url + /auth/oidc/callback)."
    )

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


class IdentitySettings(BaseModel):
    """Two-person privileged changes, invitations and passkeys (issue 12; identity/proposals.py)."""

    cooling_off_hours: float = Field(
        default=72, ge=0,
        description="Hours after its approval before a new privacy_officer or counsel role counts for approvals; "
        "the grant is public in the log from the moment it is approved.",
    )
    demo_cooling_off_hours: float = Field(
        default=0.05, ge=0,
        description="Cooling-off used instead in the demo environment, so the demo shows a reviewer becoming "
        "effective (3 minutes).",
    )
    invitation_hours: float = Field(default=72, gt=0, le=24 * 14,
                                    description="Lifetime of an enrolment invitation or a key claim link.")
    require_passkey: bool | None = Field(
        default=None,
        description="Disclosure approvals need a passkey sign-in. Default: yes, except in development, demo and test.",
    )
    rp_id: str | None = Field(
        default=None, description="WebAuthn relying party id (default: the host of server.public_url)."
    )


class Settings(BaseSettings):
    """All of safeslot's settings."""

    model_config = SettingsConfigDict(env_prefix="SAFESLOT_", env_nested_delimiter="__", extra="ignore")

    environment: Environment = Field(
        default=Environment.development, description="Which kind of deployment this is."
    )
    secret_key: str = Field(
        default="development-only-secret-change-me",
        description="Secret for session cookies and CSRF tokens. Must be set outside development, demo and test.",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    crypto: CryptoSettings = Field(default_factory=CryptoSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    policy_profile: str = Field(
        default="federal", description="Cedar policy profile under policies/: federal or state."
    )
    policies_dir: Path = Field(
        default=PROJECT_DIR / "policies",
        description="Folder with the Cedar schema and profiles (default: the project's policies/, from any directory).",
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment is Environment.production and (
            self.secret_key.startswith("development-only") or len(self.secret_key) < 32
        ):
            raise ValueError("SAFESLOT_SECRET_KEY must be set to 32+ random characters in production")
        return self

    @property
    def is_demo(self) -> bool:
        return self.environment in (Environment.demo, Environment.development, Environment.test)

    @property
    def cooling_off(self) -> dt.timedelta:
        """How long a new reviewer role waits before it counts (shortened only in the demo environment)."""
        hours = (self.identity.demo_cooling_off_hours if self.environment is Environment.demo
                 else self.identity.cooling_off_hours)
        return dt.timedelta(hours=hours)

    @property
    def passkey_required(self) -> bool:
        """Disclosure approvals need a passkey sign-in (OMB M-22-09), except in demo mode unless set."""
        required = self.identity.require_passkey
        return (not self.is_demo) if required is None else required
