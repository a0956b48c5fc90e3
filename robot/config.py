"""Settings: environment variables prefixed JOBBER_ROBOT_ and a `.env` file.

Validated once at start so a wrong value fails with the variable's name, not later mid-job.
Every field is listed with a comment in `.env.example`.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from robot.errors import ConfigError

ENV_PREFIX = "JOBBER_ROBOT_"


class Settings(BaseSettings):
    """Every setting of the robot; each field is JOBBER_ROBOT_<NAME> in the environment or `.env`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `KEY=` (as in .env.example) means "use the default", not an empty path or key:
        # an empty JOBBER_ROBOT_BROWSER_PATH would otherwise become Path(".").
        env_ignore_empty=True,
    )

    # Where things are
    data_dir: Path = Field(default=Path(".data"), description="Root for the vault, sessions, logs, artifacts and the job store")
    jobber_url: str = Field(default="http://127.0.0.1:8765", description="Jobber web app base URL (the mock site by default)")
    gateway_url: str = Field(default="http://127.0.0.1:8766", description="Payment gateway API base URL (the sandbox by default)")

    # Browser
    browser_path: Path | None = Field(default=None, description="Chromium executable; default: Playwright's own, else /usr/bin/chromium")
    headless: bool = True
    host_resolver_rules: str | None = Field(
        default=None, description="Chromium --host-resolver-rules, e.g. 'MAP *.jobber.test 127.0.0.1' for the mock's named hosts")
    navigation_timeout_ms: int = Field(default=15_000, ge=1_000, le=300_000)
    action_timeout_ms: int = Field(default=10_000, ge=500, le=300_000)
    session_idle_seconds: int = Field(default=300, ge=10, description="Close a merchant's browser context after this idle time")
    trace: bool = Field(default=True, description="Record a Playwright trace per job (kept only when the job fails)")
    trace_full: bool = Field(default=False, description="Screenshots and DOM snapshots in every job's trace (costly); "
                             "by default only a retried job's trace has them, the others keep the action log")

    # Login
    unavailable_retries: int = Field(default=3, ge=0, le=10, description="Retries when Jobber is unavailable (never for a bad password)")
    handoff_timeout_seconds: int = Field(default=600, ge=1, description="How long a job waits for a 2FA code or a confirmation")

    # Secrets
    credential_key: SecretStr | None = Field(default=None, description="Vault key (urlsafe base64, 32 bytes); else key file")
    credential_key_file: Path | None = Field(default=None, description="Vault key file (0600); default DATA_DIR/vault.key")

    # Jobs
    database_url: str | None = Field(default=None, description="DBOS system database; default sqlite in DATA_DIR")
    queue_concurrency: int = Field(default=2, ge=1, le=64, description="Jobs running at once across merchants")
    executor_lease_seconds: float = Field(
        default=30.0, ge=1.0, le=3600.0,
        description="A worker refreshes its lease every third of this; a worker silent this long is taken "
                    "for dead and a live worker recovers its jobs (DBOS recovery)")
    link_reconcile_minutes: int = Field(default=15, ge=1, description="Reconcile paid payment links every N minutes")
    max_amount: Decimal = Field(default=Decimal("1000000.00"), gt=0, max_digits=14, decimal_places=2,
                                description="Largest amount one job may move; a larger one is refused at intake")
    api_key: SecretStr | None = Field(default=None, description="API key the POS back end sends to `serve` (X-API-Key)")
    idempotency_key_hours: float = Field(default=24.0, gt=0, le=24 * 30,
                                         description="How long `serve` keeps an Idempotency-Key and its answer")
    webhook_retry_base_seconds: float = Field(default=30.0, gt=0, le=3600,
                                              description="First pause before a failed webhook delivery is retried "
                                                          "(doubling each time, at most 6 h)")
    webhook_max_attempts: int = Field(default=16, ge=1, le=50, description="Attempts per webhook delivery")
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(default=8780, ge=1, le=65535)

    # Support dashboard (served by `serve` under /support/)
    support_cookie_secure: bool | None = Field(
        default=None, description="Mark the dashboard's cookies Secure: true, false, or empty for "
                                  "'when the request came over https' (a TLS proxy's X-Forwarded-Proto from loopback)")
    support_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60,
                                              description="A dashboard session unused this long ends")

    # Logging
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$",
                           description="Level of the JSON log file (and of the console for worker/serve)")
    console_log_level: str = Field(default="WARNING", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$",
                                   description="Console level of one-shot commands (their summary is printed anyway)")

    @field_validator("jobber_url", "gateway_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("browser_path")
    @classmethod
    def _browser_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.exists():
            raise ValueError(f"no browser at {v}")
        return v

    # Derived locations -------------------------------------------------------------
    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def vault_path(self) -> Path:
        return self.data_path / "vault.json"

    @property
    def key_file(self) -> Path:
        return (self.credential_key_file or self.data_path / "vault.key").expanduser()

    @property
    def sessions_dir(self) -> Path:
        return self.data_path / "sessions"

    @property
    def artifacts_dir(self) -> Path:
        return self.data_path / "artifacts"

    @property
    def logs_dir(self) -> Path:
        return self.data_path / "logs"

    @property
    def staff_path(self) -> Path:
        return self.data_path / "staff.json"

    @property
    def system_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'jobs.sqlite'}"

    def ensure_dirs(self) -> None:
        for d in (self.data_path, self.sessions_dir, self.artifacts_dir, self.logs_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's errors into one readable ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']}")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read and validated once (the CLI fails at start, not mid-job)."""
    return load_settings()
