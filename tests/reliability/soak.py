"""The fault soak: many mixed jobs through the queue on PostgreSQL while everything goes wrong.

`Soak(seed, jobs).run()` drives two `jobber-robot worker` processes against the session's mock
Jobber and sandbox gateway while a chaos thread, from one seeded RNG, injects faults and hurts
the workers:

- mock Jobber: latency spikes, 500s, forced log-outs (every session ended), MFA demanded again,
  a CAPTCHA on sign-in (a person then resumes the merchant's sign-in, as the runbook says);
- sandbox: latency spikes, 500s before anything happened, responses dropped after the money
  moved, terminals that time out;
- workers: kill -9 and a restart under the same id, SIGSTOP for a few seconds and SIGCONT.

Four merchants (acme, delta and echo sign in with TOTP; bravo's codes come by SMS and a person
hands them over); every job kind: card, ACH and terminal charges, deposits, quote deposits,
payment links (paid by the customer, then reconciled), refunds and voids of earlier charges,
ACH returns and the check that reverses them, reconcile.

Then the ledger check over the gateway, Jobber and the job store (`Ledger`): no job lost; no
job charged twice; every capture recorded in Jobber once with its amount less refunds (none
after a void, $0.00 after an ACH return); no Jobber payment without its capture; every job
that did not succeed has a typed outcome, and its evidence when it failed on a page; no
account's password or TOTP seed (all right) marked refused, which would stop its sign-ins.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from flows.pages.details import details_match, refunded_in
from robot.vault import GatewayCredentials, MerchantCredentials
from tests.integration.robot_world import ACME, BRAVO, DELTA, ECHO
from tests.plugin_gateway import ACCOUNT, ROUTING, creds_for, make_gateway, merchants_scenario
from tests.reliability.queue_env import RobotEnv, make_env

DONE = ("finished", "failed", "cancelled")
OK = ("succeeded", "pending", "dry_run")
#: outcomes of a job that did what it was asked: an ACH check that found a return and reversed its
#: Jobber payment ends "reversed" (the ledger check above proves the reversal), not as a failure
DONE_WELL = OK + ("reversed",)
#: after the chaos, a job not done once none has ended for this long is lost (a person's code is
#: awaited 120 s at most, a lease lasts 9 s)
SETTLE_QUIET_SECONDS = 300.0
#: invoices with room for many small payments (the soak's scenario makes their balances large)
INVOICES = {"acme": [1042, 1050, 1051, 1070], "bravo": [2001], "delta": [4001, 4010], "echo": [5042, 5050]}
QUOTES = {"acme": 12, "echo": 52}
TERMINALS = {"acme": "tmr_front_desk", "bravo": "tmr_bravo_truck", "delta": "tmr_delta", "echo": "tmr_echo"}


def soak_scenario() -> dict[str, Any]:
    """The demo Jobber with every open invoice and approved quote grown a hundredfold."""
    from fixtures.scenarios import load

    doc = load("demo")
    for acc in doc["accounts"]:
        for client in acc["clients"]:
            for doc_ in client.get("invoices", []) + client.get("quotes", []):
                if doc_.get("status") in ("awaiting_payment", "approved"):
                    for item in doc_["line_items"]:
                        item["quantity"] = str(int(Decimal(item["quantity"]) * 100))
    return doc


@dataclass
class Counts:
    jobs: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    stalls: int = 0
    handoffs: int = 0
    resumes: int = 0

    @property
    def faults_total(self) -> int:
        return sum(self.faults.values())


class Soak:
    def __init__(self, tmp: Path, site: Any, sandbox: Any, database_url: str, *, seed: int, jobs: int,
                 chaos_every: float = 6.0) -> None:
        self.tmp = tmp
        self.site = site
        self.sandbox = sandbox
        self.rng = random.Random(seed)
        self.seed = seed
        self.total = jobs
        self.chaos_every = chaos_every
        self.counts = Counts()
        self.job_ids: list[str] = []
        self.kinds: dict[str, str] = {}
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        merchants = []
        for base in (ACME, BRAVO, DELTA, ECHO):
            m = str(base["merchant"])
            merchants.append(MerchantCredentials(**{**base, "gateway": GatewayCredentials(
                merchant_id=m, api_key=SecretStr(f"sk_test_{m}"))}))
        self.env: RobotEnv = make_env(tmp, site, sandbox, database_url=database_url, merchants=merchants,
                                      link_reconcile_minutes=1440, executor_lease_seconds=9,
                                      handoff_timeout_seconds=120, unavailable_retries=3)

    # --- the world ---------------------------------------------------------------------------
    def reset(self) -> None:
        self.site.admin.reset(soak_scenario())
        self.site.admin.clear_faults()
        self.sandbox.admin.reset(merchants_scenario("delta", "echo"))
        for tid in TERMINALS.values():  # every terminal push times out (a terminal timeout, typed)
            self.sandbox.admin.terminal(tid, "set-timeout", timeout_seconds=2)

    def _token(self, merchant: str, kind: str) -> str:
        async def make() -> str:
            gw = make_gateway(self.sandbox.url, creds_for(merchant))
            try:
                if kind == "ach":
                    return (await gw.add_bank_account(ROUTING, ACCOUNT, "Luis Garcia")).id
                return (await gw.tokenize_card("4242424242424242", 12, 2030, "123")).id
            finally:
                await gw.aclose()

        return asyncio.run(make())

    # --- jobs ---------------------------------------------------------------------------------
    def _enqueue(self, job: dict[str, Any]) -> str:
        job_id = self.env.enqueue(job)
        with self._lock:
            self.job_ids.append(job_id)
            self.kinds[job_id] = job["kind"]
        return job_id

    def first_wave(self, n: int) -> None:
        rng = self.rng
        merchants = sorted(INVOICES)
        for i in range(n):
            m = merchants[i % len(merchants)]
            invoice = rng.choice(INVOICES[m])
            amount = f"{Decimal(rng.randint(100, 900)) / 100:.2f}"  # cents, never a float
            pick = rng.random()
            if pick < 0.40:
                job = {"kind": "charge", "merchant": m, "invoice": invoice, "amount": amount,
                       "tender": {"type": "card_token", "token": self._token(m, "card")}}
            elif pick < 0.55:
                job = {"kind": "deposit", "merchant": m, "invoice": invoice, "amount": amount,
                       "tender": {"type": "card_token", "token": self._token(m, "card")}}
            elif pick < 0.65 and m in QUOTES:
                job = {"kind": "quote_deposit", "merchant": m, "quote": QUOTES[m], "amount": amount,
                       "tender": {"type": "card_token", "token": self._token(m, "card")}}
            elif pick < 0.78:
                job = {"kind": "charge", "merchant": m, "invoice": invoice, "amount": amount,
                       "tender": {"type": "ach_token", "token": self._token(m, "ach")}}
            elif pick < 0.86:
                job = {"kind": "charge", "merchant": m, "invoice": invoice, "amount": amount,
                       "tender": {"type": "terminal", "terminal_id": TERMINALS[m]}}
            else:
                job = {"kind": "link", "merchant": m, "invoice": invoice, "amount": amount, "send_via": "email",
                       "to": f"customer{i}@example.com"}
            self._enqueue(job)

    def second_wave(self, n: int) -> None:
        """Refunds and voids of card charges that went through, links paid by their customers,
        ACH debits returned; then each merchant's link reconcile, ACH check and reconcile."""
        rng = self.rng
        card_ok, links, ach = [], [], []
        for job_id in list(self.job_ids):
            v = self.env.job(job_id)
            r = v.result
            if r is None or v.outcome not in OK:
                continue
            if r.kind in ("charge", "deposit") and (r.tender or "").startswith("Visa"):
                card_ok.append(r)
            elif r.kind == "link":
                links.append(r)
            elif r.kind == "charge" and (r.tender or "").startswith("Bank"):
                ach.append(r)
        rng.shuffle(card_ok)
        made = 0
        for r in card_ok[: max(2, n - 2 * len(INVOICES))]:
            if rng.random() < 0.6:
                self._enqueue({"kind": "refund", "merchant": r.merchant, "transaction_id": r.gateway_transaction_id,
                               "amount": f"{min(Decimal('1.00'), r.amount_captured or Decimal('1.00')):.2f}"})
            else:
                self._enqueue({"kind": "void", "merchant": r.merchant, "transaction_id": r.gateway_transaction_id})
            made += 1
        for r in links:
            if rng.random() < 0.7:
                self.sandbox.admin.pay_link(r.report["link_id"])
        for r in ach[: max(1, len(ach) // 3)]:
            self.sandbox.admin.ach_return(r.gateway_transaction_id, "R01")
        for m in sorted(INVOICES):
            for kind in ("link_reconcile", "ach_check"):
                self._enqueue({"kind": kind, "merchant": m})

    def support_reconcile(self) -> None:
        """What support does at the end of a bad day (the runbook): for each merchant a
        `reconcile --repair`, which records in Jobber the money that moved for a job that then
        lost Jobber (it ended `unavailable` with its evidence), once, by the transaction id."""
        ids = [self._enqueue({"kind": "reconcile", "merchant": m, "repair": True}) for m in sorted(INVOICES)]
        self.reconciles = ids

    # --- people -------------------------------------------------------------------------------
    def _people(self) -> None:
        """A person at bravo hands over the SMS code a waiting job asks for; after a CAPTCHA a
        person signs in by hand and resumes the merchant's sign-in."""
        answered: set[tuple[str, str]] = set()
        while not self._stop.is_set():
            for job_id in list(self.job_ids):
                try:
                    v = self.env.job(job_id)
                except Exception:  # noqa: BLE001 - the store is busy with a killed worker's recovery
                    continue
                w = v.waiting_for or {}
                if v.status not in DONE and w.get("kind") == "2fa":
                    sms = [m for m in self.site.admin.outbox() if m["channel"] == "sms" and m.get("code")]
                    if sms and (job_id, sms[-1]["code"]) not in answered:
                        answered.add((job_id, sms[-1]["code"]))
                        r = self.env.run_cli("handoff", job_id, sms[-1]["code"], timeout=60)
                        if r.returncode == 0:
                            self.counts.handoffs += 1
            self._stop.wait(1.0)

    # --- chaos --------------------------------------------------------------------------------
    def _fault(self) -> None:
        rng = self.rng
        #: every run stalls and kills a worker at least once, however quickly its jobs go by
        first = [k for k, n in (("stall", self.counts.stalls), ("kill", self.counts.kills)) if n == 0]
        pick = first[0] if first else rng.choices(
            ["jobber_latency", "jobber_500", "force_logout", "mfa_again", "captcha", "gateway_latency", "gateway_500",
             "dropped_after_commit", "kill", "stall"], weights=[3, 2, 2, 2, 1, 3, 2, 3, 3, 2])[0]
        site, box = self.site.admin, self.sandbox.admin
        if pick == "kill":
            self._kill(rng.choice(sorted(self.workers)))
            return
        if pick == "stall":
            self._stall(rng.choice(sorted(self.workers)), rng.uniform(3, 14))  # some outlast the lease
            return
        self.counts.faults[pick] += 1
        hold = rng.uniform(1.0, 3.0)
        if pick == "jobber_latency":
            site.faults(latency_ms=rng.choice([500, 1500]))
            self._stop.wait(hold)
            site.faults(latency_ms=0)
        elif pick == "jobber_500":
            site.faults(error_rate=0.3)
            self._stop.wait(hold)
            site.faults(error_rate=0.0)
        elif pick == "force_logout":
            site.faults(force_logout=True)
        elif pick == "mfa_again":
            site.faults(require_2fa=True)
            self._stop.wait(hold * 2)
            site.faults(require_2fa=False)
        elif pick == "captcha":
            site.faults(captcha=True)
            self._stop.wait(hold)
            site.faults(captcha=False)
            for m in INVOICES:  # a person solved it by hand and resumes the robot's sign-in
                self.env.vault.clear_sign_in_stop(m)
            self.counts.resumes += 1
        elif pick == "gateway_latency":
            box.faults(latency_ms=rng.choice([800, 2500]))
            self._stop.wait(hold)
            box.faults(latency_ms=0)
        elif pick == "gateway_500":
            box.faults(fail_next=rng.randint(1, 3))
        elif pick == "dropped_after_commit":
            box.faults(fail_after_commit_next=1)

    def _start_worker(self, wid: str) -> None:
        self.workers[wid] = self.env.worker(wid)

    def _kill(self, wid: str) -> None:
        p = self.workers[wid]
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.counts.kills += 1
        self._stop.wait(self.rng.uniform(0.5, 2.0))
        self._start_worker(wid)

    def _stall(self, wid: str, seconds: float) -> None:
        p = self.workers[wid]
        if p.poll() is not None:
            self._start_worker(wid)
            return
        p.send_signal(signal.SIGSTOP)
        self.counts.stalls += 1
        self._stop.wait(seconds)
        p.send_signal(signal.SIGCONT)

    def _chaos(self) -> None:
        while not self._stop.is_set():
            self._stop.wait(self.rng.expovariate(1 / self.chaos_every))
            if self._stop.is_set():
                break
            try:
                self._fault()
            except Exception as exc:  # noqa: BLE001 - a fault that could not be applied is not counted
                self.counts.faults[f"not applied ({type(exc).__name__})"] += 0
            for wid, p in list(self.workers.items()):  # a worker that died of a fault comes back
                if p.poll() is not None:
                    self._start_worker(wid)

    # --- the run ------------------------------------------------------------------------------
    def pending(self) -> list[str]:
        out = []
        for job_id in list(self.job_ids):
            try:
                if self.env.job(job_id).status not in DONE:
                    out.append(job_id)
            except Exception:  # noqa: BLE001 - the store is busy with a killed worker's recovery
                out.append(job_id)
        return out

    def wait_all(self, timeout: float) -> list[str]:
        """The jobs still not done when all are, or when `timeout` seconds have gone by."""
        deadline = time.monotonic() + timeout
        while (pending := self.pending()) and time.monotonic() < deadline:
            time.sleep(1.0)
        return pending

    def settle(self, quiet: float = SETTLE_QUIET_SECONDS) -> list[str]:
        """The jobs still not done once every job is, or once none has ended for `quiet` seconds.

        A job is lost when the queue stops moving it, not when a slow machine has not reached it by
        a fixed hour: at load 22 on 2 cores the 200-job soak takes 40 minutes and every job still
        ends, so a clock set for an idle machine called living jobs lost (and their repair undone)."""
        pending = self.pending()
        last_move = time.monotonic()
        while pending and time.monotonic() - last_move < quiet:
            time.sleep(1.0)
            now = self.pending()
            if len(now) < len(pending):
                last_move = time.monotonic()
            pending = now
        return pending

    def calm(self) -> None:
        """Faults off, every worker running and awake."""
        self.site.admin.clear_faults()
        self.sandbox.admin.faults(latency_ms=0, fail_next=0, fail_after_commit_next=0, drop_next=0)
        for wid, p in list(self.workers.items()):
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
            else:
                self._start_worker(wid)
        for m in INVOICES:
            self.env.vault.clear_sign_in_stop(m)

    def run(self, timeout: float) -> "Ledger":
        self.reset()
        first = max(4, int(self.total * 0.7))
        self.first_wave(first)
        for wid in ("w1", "w2"):
            self._start_worker(wid)
        chaos = threading.Thread(target=self._chaos, name="chaos", daemon=True)
        people = threading.Thread(target=self._people, name="people", daemon=True)
        chaos.start()
        people.start()
        started = time.monotonic()
        try:
            lost = self.wait_all(timeout * 0.6)
            self.calm_if(lost)
            self.second_wave(self.total - len(self.job_ids))
            lost = self.wait_all(timeout - (time.monotonic() - started))
        finally:
            self._stop.set()
            chaos.join(30)
            people.join(30)
        self.calm()  # the chaos is over: give every job its chance to finish before it counts as lost
        lost = self.settle()
        if not lost:
            self.support_reconcile()
            lost = self.settle()
        self.counts.jobs = len(self.job_ids)
        ledger = Ledger(self, lost)
        ledger.check()
        return ledger

    def calm_if(self, pending: list[str]) -> None:
        if pending:
            self.calm()

    def stop(self) -> None:
        self._stop.set()
        for p in self.workers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
        self.env.stop_all()


class Ledger:
    """What the gateway, Jobber and the job store say about every job and every transaction."""

    def __init__(self, soak: Soak, lost: list[str]) -> None:
        self.soak = soak
        self.lost = lost
        self.mismatches: list[str] = []
        self.outcomes: Counter[str] = Counter()

    def _payments(self) -> list[dict[str, Any]]:
        """Every Jobber payment and deposit of every account, with the account's company."""
        out = []
        for acc in self.soak.site.admin.state()["accounts"]:
            for doc in acc.get("invoices", []) + acc.get("quotes", []):
                for p in doc.get("payments", []) + doc.get("deposits", []):
                    out.append({**p, "company": acc.get("company")})
        return out

    def check(self) -> None:
        env, box = self.soak.env, self.soak.sandbox.admin
        views = {job_id: env.job(job_id) for job_id in self.soak.job_ids}
        self.lost = [j for j in self.lost if views[j].status not in DONE]  # one that ended since is not lost
        for job_id in self.lost:
            self.mismatches.append(f"lost job {job_id} ({views[job_id].status} at {views[job_id].step})")
        txns = [t for m in sorted(INVOICES) for t in box.transactions(m)]
        payments = self._payments()
        by_ref = Counter(t.get("reference") for t in txns if t.get("reference"))
        for ref, n in by_ref.items():
            if n > 1:
                self.mismatches.append(f"double charge: {n} transactions for {ref}")
        known = {t["id"] for t in txns}
        for p in payments:
            ids = [t for t in known if details_match(p.get("details") or "", t)]
            if "txn_" in (p.get("details") or "") and not ids:
                self.mismatches.append(f"Jobber payment {p['id']} names no gateway transaction")
        for t in txns:
            recorded = [p for p in payments if details_match(p.get("details") or "", t["id"])]
            status = t["status"]
            if status in ("declined", "failed", "timed_out", "cancelled", "expired", "authorized"):
                if recorded:
                    self.mismatches.append(f"{t['id']} {status} but recorded in Jobber")
                continue
            if status == "voided":
                if recorded:
                    self.mismatches.append(f"{t['id']} voided but its Jobber payment is still there")
                continue
            if len(recorded) != 1:
                self.mismatches.append(f"{t['id']} {status} {t.get('captured') or t.get('amount')}: "
                                       f"{len(recorded)} Jobber payments (unrecorded capture or recorded twice)")
                continue
            p = recorded[0]
            amount = Decimal(str(t.get("captured") or "0")) or Decimal(str(t.get("amount") or "0"))
            refunded = Decimal(str(t.get("refunded") or "0"))
            expect = Decimal("0.00") if status == "returned" else amount - refunded
            if Decimal(p["amount"]) != expect:
                self.mismatches.append(f"{t['id']} {status}: Jobber shows {p['amount']}, the gateway {expect:.2f}"
                                       f" (captured {amount:.2f}, refunded {refunded:.2f}, Jobber refund lines "
                                       f"{refunded_in(p.get('details') or '')})")
        vault = env.vault
        for m in sorted(INVOICES):  # every account's password and seed are right: no refusal is true
            creds = vault.get(m)
            if vault.password_refused_at(creds) is not None:
                self.mismatches.append(f"{m}: its right password was marked refused (its sign-ins stopped)")
            if vault.seed_refused(creds) is not None:
                self.mismatches.append(f"{m}: its right TOTP seed was marked refused (its sign-ins stopped)")
        for job_id, v in views.items():
            self.outcomes[v.outcome or v.status] += 1
            if v.status not in DONE or v.outcome in DONE_WELL:
                continue
            r = v.result
            if r is None or not r.error_code:
                self.mismatches.append(f"job {job_id} {v.outcome}: no typed outcome ({v.message[:80]})")
                continue
            if v.outcome == "failed" and not [a for a in r.artifacts if Path(a).exists()]:
                self.mismatches.append(f"job {job_id} failed ({r.error_code}) without its evidence")

    def summary(self) -> str:
        c = self.soak.counts
        faults = ", ".join(f"{k} {n}" for k, n in sorted(c.faults.items()) if n)
        outcomes = ", ".join(f"{k} {n}" for k, n in sorted(self.outcomes.items()))
        return (f"soak seed={self.soak.seed}: jobs={c.jobs} faults={c.faults_total} kills={c.kills} "
                f"stalls={c.stalls} mismatches={len(self.mismatches)}\n"
                f"  faults: {faults}\n  outcomes: {outcomes}\n  handoffs={c.handoffs} sign-in resumes={c.resumes}"
                + "".join(f"\n  MISMATCH {m}" for m in self.mismatches))

    def as_json(self) -> str:
        c = self.soak.counts
        return json.dumps({"seed": self.soak.seed, "jobs": c.jobs, "faults": c.faults_total, "kills": c.kills,
                           "stalls": c.stalls, "mismatches": len(self.mismatches)})
