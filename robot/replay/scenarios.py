"""The scenarios `fixtures record` knows: which login, which Jobber shape, which jobs, in order.

A job may name an earlier job's result: `"transaction_id": "{1.gateway_transaction_id}"` is the
first job's gateway transaction (a refund or void of what that job charged).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from robot.errors import ConfigError


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str
    login: str = Field(description="the mock's login (e-mail) it signs in as")
    business_name: str | None = Field(default=None, description="the account to choose when the login holds several")
    gateway_merchant: str = "acme"
    layout_variant: str | None = None
    jobs: list[dict[str, Any]]


CHEN = {"type": "card_on_file", "customer_id": "cus_chen"}
GARCIA = {"type": "card_on_file", "customer_id": "cus_garcia"}
OKAFOR = {"type": "card_on_file", "customer_id": "cus_okafor"}

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario(name="dialog-payments",
             description="Sign in with an authenticator code; find an invoice by its client's name and charge it "
                         "(Collect Payment dialog); refund part of it; a deposit on an approved quote",
             login="owner@acme.test",
             jobs=[{"kind": "charge", "client": "Luis Garcia", "tender": GARCIA},
                   {"kind": "refund", "transaction_id": "{1.gateway_transaction_id}", "amount": "40.00"},
                   {"kind": "quote_deposit", "quote": 12, "amount": "100.00", "tender": CHEN}]),
    Scenario(name="page-payments",
             description="An account that records payments on the New Payment page: a charge, voided (the "
                         "payment's More > Delete); a quote deposit on that page",
             login="page@echo.test",
             jobs=[{"kind": "charge", "invoice": 5042, "amount": "50.00", "tender": CHEN},
                   {"kind": "void", "transaction_id": "{1.gateway_transaction_id}"},
                   {"kind": "quote_deposit", "quote": 52, "amount": "40.00", "tender": CHEN}]),
    Scenario(name="account-chooser",
             description="One login holding two accounts: the account chooser, then a charge in Delta Lawn South",
             login="franchise@delta.test", business_name="Delta Lawn South",
             jobs=[{"kind": "charge", "invoice": 4010, "amount": "25.00", "tender": CHEN}]),
    Scenario(name="drift-more-actions",
             description="Drift: the \"More Actions\" wording (the robot still works; selectors check names it); "
                         "a dry run: the invoice is opened and checked, nothing moves",
             login="owner@acme.test", layout_variant="more_actions",
             jobs=[{"kind": "charge", "invoice": 1070, "amount": "10.00", "tender": GARCIA, "dry_run": True}]),
    Scenario(name="drift-renamed-button",
             description="Drift: Collect Payment renamed \"Record Payment\" (the robot stops before any money moves)",
             login="owner@acme.test", layout_variant="renamed_button",
             jobs=[{"kind": "charge", "invoice": 1070, "amount": "10.00", "tender": GARCIA}]),
    Scenario(name="drift-moved-field",
             description="Drift: the dialog's Amount field moved beside the method, named \"Amount USD\" (the robot "
                         "cannot fill it: money moved, the result says it is not recorded)",
             login="owner@acme.test", layout_variant="moved_field",
             jobs=[{"kind": "charge", "invoice": 1070, "amount": "10.00", "tender": GARCIA}]),
)}

_REF = re.compile(r"^\{(\d+)\.([a-z_]+)\}$")


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(f"no scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}") from None


def resolve_job(job: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """The job with `{N.field}` references to earlier results filled in."""
    out: dict[str, Any] = {}
    for key, value in job.items():
        m = _REF.match(value) if isinstance(value, str) else None
        if m is not None:
            n, attr = int(m.group(1)), m.group(2)
            if not 1 <= n <= len(results):
                raise ConfigError(f"job field {key}: {value} names job {n}, which has not run")
            value = getattr(results[n - 1], attr)
        out[key] = value
    return out
