"""How a job ends: the one vocabulary the flows, the queue, the CLI and the POS API share.

Each error class of robot/errors.py names the outcome it ends a job with (`job_outcome`).
"""

from __future__ import annotations

from enum import Enum


class Outcome(str, Enum):
    succeeded = "succeeded"                  # money moved (or refund/void done) and recorded, verified
    pending = "pending"                      # ACH debit accepted, recorded, awaiting settlement
    dry_run = "dry_run"                      # every check passed; nothing moved, nothing recorded
    refused = "refused"                      # a rule stopped it before money moved (Draft, amount, ...)
    declined = "declined"                    # the gateway/terminal declined; nothing recorded
    cancelled = "cancelled"                  # customer cancelled at the terminal / job cancelled
    timed_out = "timed_out"                  # terminal timeout
    unavailable = "unavailable"              # terminal offline/busy, gateway down
    needs_confirmation = "needs_confirmation"  # a person must pick the invoice
    needs_2fa = "needs_2fa"                  # a 2FA code is needed from a person
    access_failed = "access_failed"          # bad credentials, locked out
    recorded_with_mismatch = "recorded_with_mismatch"
    reversed = "reversed"                    # ACH returned: Jobber payment reversed and flagged
    failed = "failed"                        # anything else (selector drift, unexpected page)
