"""Job kind → flow, and each flow's ordered stage names (the queue's crash-matrix test iterates
them: a crash "before:<stage>" / "after:<stage>" must never move money twice).

Stages that may repeat within one job (one "record" per paid link, returned ACH debit or
repaired transaction) carry the same name each time. "verify_confirmed" runs only after a
person picked an invoice among candidates; "gateway_check" only in a dry run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flows import ach, charge, deposit, link, quote_deposit, reconcile, refund, void


@dataclass(frozen=True)
class FlowSpec:
    kind: str
    run: Callable[..., Awaitable[Any]]
    stages: tuple[str, ...]


FLOWS: dict[str, FlowSpec] = {
    "charge": FlowSpec("charge", charge.run, tuple(charge.STAGES)),
    "deposit": FlowSpec("deposit", deposit.run, tuple(deposit.STAGES)),
    "quote_deposit": FlowSpec("quote_deposit", quote_deposit.run, tuple(quote_deposit.STAGES)),
    "link": FlowSpec("link", link.run, tuple(link.STAGES)),
    "link_reconcile": FlowSpec("link_reconcile", link.reconcile, tuple(link.RECONCILE_STAGES)),
    "refund": FlowSpec("refund", refund.run, tuple(refund.STAGES)),
    "void": FlowSpec("void", void.run, tuple(void.STAGES)),
    "reconcile": FlowSpec("reconcile", reconcile.run, tuple(reconcile.STAGES)),
    "ach_check": FlowSpec("ach_check", ach.run, tuple(ach.STAGES)),
}


def flow_for(kind: str) -> FlowSpec:
    try:
        return FLOWS[kind]
    except KeyError:
        raise KeyError(f"no flow for job kind {kind!r}") from None


def stages(kind: str) -> list[str]:
    """The ordered stage names of a kind's flow (normal, non-dry run)."""
    return list(flow_for(kind).stages)
