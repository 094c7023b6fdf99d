"""Settings, read from the environment with the ``SAFESLOT_`` prefix.

Nested sections use ``__`` as delimiter: ``SAFESLOT_DATABASE__URL``,
``SAFESLOT_LOG__SIGNING_KEY_FILE``. ``create_app(settings)`` takes a Settings
object, so tests build their own and nothing reads the environment behind
their back.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeslot.ratelimit import RateLimitSettings

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
    metrics_bind: str | None = Field(
        default=None,
        description="host:port where Prometheus may scrape /metrics without a token (e.g. 127.0.0.1:9464, "
        "an address only the monitoring network reaches). On the main address /metrics needs an auditor's or "
        "an administrator's token. One worker only: with several, scrape each through the main address.",
        pattern=r"^[^\s:]*:\d{1,5}$",
    )
    agency_storage_quota_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=0,
        description="Instrument documents one agency may have stored in all (413 beyond it; ask the office).",
    )


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


class AccessSettings(BaseModel):
    """What staff may read of people's appointments, and when a read raises an alert (issue 12, invariant 8)."""

    clerk_days_ahead: int = Field(
        default=14, ge=0, le=90,
        description="A clerk sees the day list of today and of this many following days, never earlier or later.",
    )
    name_lookups_alert: int = Field(
        default=20, ge=1,
        description="A clerk making more name look-ups than this in one day raises an alert for auditors.",
    )
    bulk_people_alert: int = Field(
        default=300, ge=1,
        description="A clerk reading more different people's appointments than this in one day raises an alert "
        "(an ordinary day of 60 people, read again and again, stays far below).",
    )


class QueueSettings(BaseModel):
    """The walk-in queue (scheduling/queue): check-in windows, calling order and wait estimates."""

    early_minutes: int = Field(
        default=60, ge=0, le=24 * 60,
        description="How many minutes before their appointment a person may check in with their code.",
    )
    late_minutes: int = Field(
        default=15, ge=0, le=24 * 60,
        description="How many minutes after its start an appointment may still be checked in; later, the "
        "person takes a walk-in ticket.",
    )
    call_window_minutes: int = Field(
        default=10, ge=0, le=240,
        description="A checked-in appointment due within this many minutes is called before any walk-in.",
    )
    estimate_days: int = Field(
        default=14, ge=1, le=90, description="Days of the office's own service times the wait estimate uses."
    )
    estimate_min_samples: int = Field(
        default=5, ge=1, le=1000,
        description="Fewer finished visits than this for a service: the estimate uses the service's duration.",
    )
    refresh_seconds: int = Field(
        default=20, ge=5, le=300, description="How often the ticket and display pages refresh without JavaScript."
    )


class DocumentSettings(BaseModel):
    """Instrument documents: what intake accepts and how signatures are checked (issue 13)."""

    max_pages: int = Field(default=30, ge=1, le=500, description="Most pages an instrument PDF may have.")
    render_seconds: float = Field(
        default=20.0, gt=0, le=300,
        description="Most seconds the server may take to render one instrument (intake) or one page (review).",
    )
    trusted_ca_dir: Path | None = Field(
        default=None,
        description="Folder of trusted court CA certificates (PEM or DER) for PDF signatures; unset: every "
        "signature is at best 'untrusted'. Read at start-up.",
    )


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


class Settings(BaseSettings):
    """All of safeslot's settings."""

    model_config = SettingsConfigDict(env_prefix="SAFESLOT_", env_nested_delimiter="__", extra="ignore")

    environment: Environment = Field(
        default=Environment.production,
        description="Which kind of deployment this is. Unset means production: demo mode (demo data and the demo "
        "accounts' published credentials) only when asked for with demo (as `make run` does) or test; development "
        "creates missing key files but refuses demo credentials.",
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
    access: AccessSettings = Field(default_factory=AccessSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
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
        """Missing key files are created and a file sink stands in for mail (development, demo, test)."""
        return self.environment in (Environment.demo, Environment.development, Environment.test)

    @property
    def demo_credentials(self) -> bool:
        """Demo data loads and the demo accounts and agency key work: only when demo mode was asked for."""
        return self.environment in (Environment.demo, Environment.test)
