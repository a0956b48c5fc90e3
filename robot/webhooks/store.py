"""The webhook tables in the job store: endpoints, events, delivery attempts."""

from __future__ import annotations

import sqlalchemy as sa

from robot.jobs.robot_tables import engine

metadata = sa.MetaData()

endpoints = sa.Table(
    "jobber_robot_webhook_endpoints", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("secret_sealed", sa.Text, nullable=False),  # Fernet with the vault key: never in clear
    sa.Column("events", sa.Text, nullable=False),          # JSON list of event types, or ["*"]
    sa.Column("description", sa.String(500), nullable=True),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
)

events = sa.Table(
    "jobber_robot_webhook_events", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("job_id", sa.String(255), nullable=True, index=True),
    sa.Column("created_at_ms", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # the exact bytes every attempt sends
)

deliveries = sa.Table(
    "jobber_robot_webhook_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(64), nullable=False, index=True),
    sa.Column("endpoint_id", sa.String(64), nullable=False, index=True),
    sa.Column("job_id", sa.String(255), nullable=True, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("attempted_at_ms", sa.BigInteger, nullable=False),
    sa.Column("succeeded", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=True),
    sa.Column("next_attempt_at_ms", sa.BigInteger, nullable=True),
)

_ready: set[str] = set()


def db(url: str) -> sa.Engine:
    eng = engine(url)
    if url not in _ready:
        try:
            metadata.create_all(eng, checkfirst=True)
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
            metadata.create_all(eng, checkfirst=True)  # another process made them at the same moment
        _ready.add(url)
    return eng
