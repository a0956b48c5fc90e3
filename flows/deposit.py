"""Deposit: a partial payment on an invoice; several deposits until the invoice is Paid.

Same stages and rules as a charge (verify → gateway → record → verify_after); the amount is
required and must not exceed what is left of the balance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows import charge
from flows.draft import Draft
from robot.jobs.models import DepositJob, JobResult
from robot.money import fmt
from robot.outcomes import Outcome

if TYPE_CHECKING:
    from flows.runtime import FlowContext

STAGES = ["verify", "gateway", "record", "verify_after"]


async def run(ctx: "FlowContext", job: DepositJob, draft: Draft) -> JobResult:
    result = await charge.run(ctx, job, draft, what="take a deposit of")
    if result.outcome in (Outcome.succeeded, Outcome.pending) and result.balance_after is not None:
        left = result.balance_after
        tail = "the invoice is now Paid" if left == 0 else f"{fmt(left)} left to pay"
        result = result.model_copy(update={"message": f"deposit of {fmt(result.amount_captured)} recorded on "
                                                       f"invoice #{result.invoice}; {tail}"})
    return result
