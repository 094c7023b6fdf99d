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
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from safeslot.kit.limiter import RateLimitSettings

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
        description="SQLAlchemy URL the app uses (`serve` and every other command but `db upgrade`). SQLite (WAL) "
        "by default; in production postgresql+psycopg://safeslot_app@…, logging in as the app role, which "
        "`db upgrade` grants only what the app needs (docs/database-roles.md).",
    )
    owner_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the role that owns the schema, used only by `safeslot db upgrade`: it runs "
        "the migrations and then grants the app role (the user in `url`) its rights. Unset: `url` is used, "
        "which on PostgreSQL leaves the app able to alter its own triggers (refused outside demo mode).",
    )
    pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept per process (PostgreSQL).")
    echo: bool = Field(default=False, description="Log SQL statements (never in production: values may be personal).")

    @field_validator("url")
    @classmethod
    def _usable(cls, value: str) -> str:
        from safeslot.dburl import normalize_url

        return normalize_url(value)


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
    workers: int = Field(
        default=1, ge=1, le=16,
        description="Processes `safeslot serve` starts (its --workers). The booking fast path's writer connections "
        "are shared out among them, so the server as a whole commits in batches as large as one process would.",
    )
    header_timeout_seconds: float = Field(
        default=10, gt=0, le=300,
        description="A request's line and headers must arrive within this, or the connection is closed.",
    )
    body_timeout_seconds: float = Field(
        default=60, gt=0, le=3600,
        description="A request body must arrive within this (10 MiB at 2 Mbit/s takes 40 s), else 408.",
    )
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
    key_file: Path = Field(default=VAR_DIR / "keys" / "field-keys.json",
                           description="File holding the field-encryption master keys (never the database).")
    keys: str | None = Field(default=None, description="Alternative to key_file: the key-ring JSON itself, e.g. from "
                             "a secrets manager.")


class Pkcs11Settings(BaseModel):
    module: Path = Field(
        default=Path("/usr/lib/softhsm/libsofthsm2.so"),
        description="The PKCS#11 module (shared library) of the HSM or of the cloud KMS's PKCS#11 client; "
        "SoftHSM2's by default, for trials.",
    )
    token_label: str = Field(default="safeslot-log", min_length=1, max_length=32,
                             description="Label of the token (slot) that holds the log key.")
    key_label: str = Field(default="log-signing", min_length=1,
                           description="Label of the Ed25519 key pair (CKK_EC_EDWARDS) on the token.")
    pin_file: Path | None = Field(
        default=None,
        description="File holding the token's user PIN (readable by the service account only). Preferred over pin.",
    )
    pin: SecretStr | None = Field(default=None, description="The token's user PIN, when no pin_file is given.")

    def read_pin(self) -> str | None:
        """The PIN from the file (trailing newline dropped) or the setting; None when neither is set."""
        if self.pin_file is not None:
            try:
                return self.pin_file.read_text().rstrip("\r\n")
            except OSError:
                return None
        return self.pin.get_secret_value() if self.pin is not None else None


class LogSettings(BaseModel):
    origin: str = Field(
        default="safeslot.localhost/log",
        description="C2SP tlog-checkpoint origin line: a unique name for this log.",
    )
    signing_key_file: Path = Field(
        default=VAR_DIR / "keys" / "log-signing.key",
        description="C2SP signed-note private key file, written by `safeslot log keygen` (signer=file).",
    )
    signer: Literal["file", "pkcs11"] = Field(
        default="file",
        description="Where the log signing key lives: 'file' (signing_key_file) or 'pkcs11' (an HSM or KMS "
        "token, the pkcs11 section; docs/operations.md).",
    )
    pkcs11: Pkcs11Settings = Field(default_factory=Pkcs11Settings,
                                   description="The token holding the log key when signer is 'pkcs11'.")
    witnesses: list[str] = Field(default_factory=list, description="Witnesses as 'URL vkey' strings; each new "
                                 "checkpoint is submitted to them.")


class RetentionSettings(BaseModel):
    contact_days: int = Field(default=30, ge=0, description="Days after a visit until contact details are deleted.")
    appointment_days: int = Field(default=365, ge=1, description="Days after a visit until the appointment is purged.")


class AccessSettings(BaseModel):
    """What staff may read of people's appointments, and when a read raises an alert (need to know)."""

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
    open_early_minutes: int = Field(
        default=30, ge=0, le=240,
        description="Walk-ins may take a ticket this many minutes before the office opens (a line at the door); "
        "outside the opening hours the kiosk and the door's QR code give no ticket.",
    )
    call_window_minutes: int = Field(
        default=10, ge=0, le=240,
        description="A checked-in appointment due within this many minutes is called before any walk-in.",
    )
    estimate_days: int = Field(default=14, ge=1, le=90,
                               description="Days of the office's own service times the wait estimate uses.")
    estimate_min_samples: int = Field(
        default=5, ge=1, le=1000,
        description="Fewer finished visits than this for a service: the estimate uses the service's duration.",
    )
    refresh_seconds: int = Field(
        default=20, ge=5, le=300, description="How often the ticket and display pages refresh without JavaScript."
    )


class DocumentSettings(BaseModel):
    """Instrument documents: what intake accepts and how signatures are checked."""

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


class IdentitySettings(BaseModel):
    """Two-person privileged changes, invitations and passkeys (identity/proposals.py)."""

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
class MailSettings(BaseModel):
    """SMTP for reminders and notices (notifications/senders.py): SAFESLOT_MAIL__HOST, __PORT, …"""

    host: str | None = Field(default=None, description="SMTP server. Unset: e-mail goes to outbox_dir as .eml "
                             "files in development, demo and test, and is not sent elsewhere.")
    port: int = Field(default=25, ge=1, le=65535, description="SMTP port (587 with starttls, 25 inside a network).")
    from_address: str = Field(default="notices@safeslot.localhost", description="The From: of every message.")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before sending.")
    username: str | None = Field(default=None, description="SMTP login, when the server needs one.")
    password: str | None = Field(default=None, description="SMTP password (from a secrets manager, never a file).")
    outbox_dir: Path = Field(default=VAR_DIR / "outbox", description="Where the file sink writes (no SMTP host).")
    timeout_seconds: float = Field(default=30, gt=0, le=300, description="Give up on the SMTP server after this.")


class SmsSettings(BaseModel):
    """Text messages through a provider adapter (notifications/sms.py), picked by ``provider``."""

    provider: str = Field(default="none", description="'none' (texts are not sent; a phone contact is a dead "
                          "letter) or 'twilio' (Twilio's Messages API or any service speaking it).")
    base_url: str = Field(default="https://api.twilio.com", description="The provider's API base URL.")
    account_sid: str = Field(default="", description="Account id (Twilio: AC…).")
    auth_token: str = Field(default="", description="API secret; also checks the signature of inbound STOP replies.")
    from_number: str = Field(default="", description="The number texts come from, E.164 (+15555550100).")
    timeout_seconds: float = Field(default=15, gt=0, le=120, description="Give up on the provider after this.")


class ReminderSettings(BaseModel):
    """Opt-in reminders (notifications/reminders.py)."""

    days_before: list[int] = Field(default_factory=lambda: [2], description="Reminders this many calendar days "
                                   "before, at the appointment's wall-clock time in the office's time zone.")
    hours_before: list[int] = Field(default_factory=lambda: [2], description="Reminders this many hours before.")
    office_phone: str = Field(default="555-0100", description="The office's published phone number, printed in "
                              "every reminder so a person can check that a message is really from the office.")


class NotificationSettings(BaseModel):
    """The outbox and `safeslot worker` (notifications/outbox.py, worker.py)."""

    poll_seconds: float = Field(default=5, gt=0, le=3600, description="How often the worker looks for work.")
    batch_size: int = Field(default=50, ge=1, le=1000, description="Messages claimed per round.")
    max_attempts: int = Field(default=6, ge=1, le=50, description="Tries before a message becomes a dead letter.")
    backoff_seconds: float = Field(default=30, gt=0, description="First retry delay; doubles with each try "
                                   "(30 s, 1 min, 2 min, 4 min, 8 min), with jitter.")
    lease_seconds: float = Field(default=300, gt=0, description="A message claimed this long ago by a worker that "
                                 "died is a dead letter marked 'interrupted' (it may have gone out: never resent "
                                 "by itself, so a person gets each message at most once).")


class FinderSettings(BaseModel):
    zip_table: str | None = Field(
        default=None,
        description="A ZIP centroid table for the public office finder: a CSV with zip, town, state, latitude, "
        "longitude, or the Census ZCTA Gazetteer file (tab-separated). Unset: the bundled coarse demo table.",
    )


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
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    finder: FinderSettings = Field(default_factory=FinderSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
    policy_profile: str = Field(
        default="federal", description="Cedar policy profile under policies/: federal or state."
    )
    policies_dir: Path = Field(
        default=PROJECT_DIR / "policies",
        description="Folder with the Cedar schema and profiles (default: the project's policies/, from any directory).",
    )
    debug_pages: bool = Field(default=False, description="SAFESLOT_DEBUG_PAGES=1: an unexpected error in a page "
                              "is raised again (to see its stack trace), not the error page. Never in production.")
    bench_plaintext: bool = Field(default=False, description="SAFESLOT_BENCH_PLAINTEXT=1, in the demo environment "
                                  "only: the fast path stores names unsealed (bench/booking.py). Never in production.")

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

    @property
    def demo_credentials(self) -> bool:
        """Demo data loads and the demo accounts and agency key work: only when demo mode was asked for."""
        return self.environment in (Environment.demo, Environment.test)


def server_settings() -> ServerSettings:
    """The server section alone, read as `Settings` reads it: uvicorn makes its protocol objects before any app."""
    class Server(BaseSettings):
        model_config = Settings.model_config
        server: ServerSettings = Field(default_factory=ServerSettings)
    return Server().server
