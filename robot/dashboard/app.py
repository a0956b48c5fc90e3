"""The support dashboard's routes (FastAPI, Jinja2 pages, a little JavaScript).

Pages (all under /support, all behind a staff sign-in):
- /merchants, /merchants/{m}: health, the doctor, a new Jobber password or TOTP seed (write-only);
- /jobs (filters: status, outcome, merchant, kind), /jobs/{id}: steps, result, evidence, retry,
  cancel, and the answer a waiting job asks for;
- /queue: every job waiting for a person, with the form to answer it.

Everything a page shows from Jobber or from a job (client names, messages, errors) goes through
Jinja's autoescaping and the script only ever sets `textContent`; the Content-Security-Policy
allows no inline script, so markup that slipped through would still not run.

Every POST form carries the session's CSRF token and is refused (403) without it. GET forms (the
job filters) change nothing and carry none: a token in a URL leaks into logs and referrers.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.staticfiles import StaticFiles

from robot import health
from robot.dashboard import PREFIX
from robot.dashboard.auth import COOKIE, LoginLimiter, Session, Sessions
from robot.dashboard.doctor_runs import DoctorRuns
from robot.dashboard.staff import StaffStore
from robot.errors import InputError, RobotError, VaultError
from robot.jobs import dbos_app, links
from robot.jobs.handoff import HandoffError, clean_code, submit_choice, submit_code
from robot.jobs.models import _UNION_TAGS, Outcome
from robot.jobs.queue import store_url
from robot.jobs.steering import cancel as _cancel
from robot.jobs.steering import retry as _retry
from robot.jobs.store import STATUSES, JobNotFound, get_job, list_jobs
from robot.logging import get_logger
from robot.vault import MERCHANT_RE, Vault

if TYPE_CHECKING:
    from robot.config import Settings

HERE = Path(__file__).parent
#: the largest form the dashboard reads (a password, a code: a few hundred bytes)
MAX_FORM_BYTES = 16 * 1024
#: evidence a job may keep, and how each is served: the screenshot inline, the rest as downloads
ARTIFACTS = {"screenshot.png": ("image/png", "inline"),
             "page.html": ("application/octet-stream", "attachment"),
             "trace.zip": ("application/zip", "attachment")}
_JOB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
_ARTIFACT_DIR_RE = re.compile(r"[^A-Za-z0-9_.-]+")  # robot.evidence.job_dir's folder name
TERMINAL = ("finished", "failed", "cancelled")
WAITING = ("waiting_for_2fa", "waiting_for_confirmation")

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class NotSignedIn(Exception):
    pass


class CsrfRefused(Exception):
    pass


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _safe_next(value: str | None) -> str:
    """Where to go after signing in: a dashboard path only (never another site)."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value \
            and all(c.isprintable() and not c.isspace() for c in value):
        return value
    return PREFIX + "/"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _seconds(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return f"{(end - start).total_seconds():.2f} s"


def _money(value: Any) -> str:
    return "" if value is None else f"${value:,.2f}"


class SizeLimit:
    """ASGI wrapper: the body is read (at most MAX_FORM_BYTES, else 413) before the app sees it,
    so a form cannot make the dashboard buffer or parse more than that."""

    def __init__(self, app: Any, limit: int = MAX_FORM_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        too_large = Response("the form is too large", status_code=413, headers={"connection": "close"})
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class Dashboard:
    """The dashboard app and what it holds: job-store client, vault, staff, sessions."""

    def __init__(self, settings: "Settings") -> None:
        self.settings = settings
        self.sessions = Sessions(idle=settings.support_session_idle_minutes * 60)
        self.limiter = LoginLimiter()
        self.client: Any = None
        self.vault: Any = None
        self.staff: Any = None
        self.doctor = DoctorRuns(settings)
        self.log = get_logger("dashboard")
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.filters.update(when=_when, money=_money)
        self.env.globals.update(P=PREFIX, seconds=_seconds)
        self.fastapi = self._build()
        self.app = SizeLimit(self._headers(self.fastapi))

    # --- life ----------------------------------------------------------------------------------
    async def start(self) -> None:
        self.vault = await asyncio.to_thread(Vault.from_settings, self.settings)
        await asyncio.to_thread(self.vault.check)
        self.staff = StaffStore.from_settings(self.settings)
        self.client = await asyncio.to_thread(dbos_app.client, self.settings)

    async def stop(self) -> None:
        await self.doctor.stop()
        if self.client is not None:
            client, self.client = self.client, None
            await asyncio.to_thread(client.destroy)

    @staticmethod
    def _headers(app: Any) -> Any:
        async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            async def send_with_headers(message: MutableMapping[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    have = {k.lower() for k, _ in message.get("headers", [])}
                    extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in have]
                    message["headers"] = [*message.get("headers", []), *extra]
                await send(message)

            await app(scope, receive, send_with_headers)

        return wrapped

    # --- helpers -------------------------------------------------------------------------------
    def _cookie(self, request: Request, response: Response, token: str) -> None:
        secure = self.settings.support_cookie_secure
        if secure is None:
            secure = request.url.scheme == "https"
        response.set_cookie(COOKIE, token, path=PREFIX, httponly=True, samesite="strict", secure=secure)

    def _session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    async def _staff_session(self, request: Request) -> Session:
        s = self._session(request)
        if s is None or s.user is None:
            raise NotSignedIn
        if not await asyncio.to_thread(self._staff_exists, s.user):
            self.sessions.drop(request.cookies.get(COOKIE))  # removed with `staff remove`
            raise NotSignedIn
        return s

    def _staff_exists(self, name: str) -> bool:
        return any(u.name == name for u in self.staff.list())

    async def _posted(self, request: Request) -> tuple[Session, FormData]:
        """The signed-in session and the form, refused without the session's CSRF token."""
        s = await self._staff_session(request)
        form = await request.form(max_files=0, max_fields=20)
        if not s.csrf_ok(str(form.get("csrf") or "")):
            raise CsrfRefused
        return s, form

    def render(self, request: Request, session: Session | None, name: str, status: int = 200,
               **ctx: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(
            request=request, user=session.user if session else None, csrf=session.csrf if session else "",
            flashes=session.take_flashes() if session else [], **ctx)
        return HTMLResponse(html, status_code=status)

    async def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(fn, *args, **kwargs)

    def _job_id(self, job_id: str) -> str:
        if not _JOB_ID_RE.match(job_id):
            raise NotFound("job")
        return job_id

    async def _job(self, job_id: str) -> Any:
        try:
            return await self.call(get_job, self.client, self._job_id(job_id))
        except JobNotFound:
            raise NotFound("job") from None

    async def _merchant(self, merchant: str) -> Any:
        if not MERCHANT_RE.match(merchant):
            raise NotFound("merchant")
        try:
            return await self.call(self.vault.get, merchant)
        except VaultError:
            raise NotFound("merchant") from None

    def _back(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def _actor(self, s: Session) -> Any:
        return self.log.bind(staff=s.user)

    async def _known(self, name: str) -> str | None:
        """The typed name when it is a staff user's, else None: people type their password into
        the name field, and an unknown name is not worth the risk of logging it."""
        return name if await self.call(self.staff.exists, name) else None

    # --- the app -------------------------------------------------------------------------------
    def _build(self) -> FastAPI:  # noqa: C901 - one route table
        app = FastAPI(title="Jobber payment robot — support dashboard", docs_url=None, redoc_url=None,
                      openapi_url=None)
        app.mount(PREFIX + "/static", StaticFiles(directory=HERE / "static"), name="static")

        @app.exception_handler(NotSignedIn)
        async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
                path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return self._back(f"{PREFIX}/login?{urlencode({'next': path})}")
            return Response("sign in first", status_code=401, media_type="text/plain")

        @app.exception_handler(CsrfRefused)
        async def _csrf(request: Request, _exc: CsrfRefused) -> Response:
            self.log.warning("form refused: missing or wrong CSRF token", path=request.url.path)
            return self.render(request, None, "error.html", status=403, title="Form refused",
                               message="This form's security token is missing or out of date. Go back, reload "
                                       "the page and send it again.")

        @app.exception_handler(NotFound)
        async def _not_found(request: Request, exc: NotFound) -> Response:
            return self.render(request, self._session(request), "error.html", status=404, title="Not found",
                               message=f"There is no such {exc.what}.")

        # --- sign-in ----------------------------------------------------------------------------
        @app.get(PREFIX)
        @app.get(PREFIX + "/")
        async def home(request: Request) -> Response:
            await self._staff_session(request)
            return self._back(f"{PREFIX}/queue")

        @app.get(PREFIX + "/login")
        async def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002
            s = self._session(request)
            if s is not None and s.user is not None:
                return self._back(_safe_next(next))
            token = None
            if s is None:
                token, s = self.sessions.new()
            resp = self.render(request, s, "login.html", next=_safe_next(next), error=None)
            if token:
                self._cookie(request, resp, token)
            return resp

        @app.post(PREFIX + "/login")
        async def login(request: Request) -> Response:
            s = self._session(request)
            form = await request.form(max_files=0, max_fields=10)
            if s is None or not s.csrf_ok(str(form.get("csrf") or "")):
                raise CsrfRefused
            name = str(form.get("name") or "").strip().lower()[:64]
            password = str(form.get("password") or "")
            nxt = _safe_next(str(form.get("next") or ""))
            client = request.client.host if request.client else "?"
            wait = self.limiter.retry_after(name, client)
            if wait:
                self.log.warning("sign-in refused: too many failures", staff=await self._known(name), client=client)
                resp = self.render(request, s, "login.html", status=429, next=nxt,
                                   error=f"Too many failed sign-ins. Try again in {max(1, wait // 60)} min.")
                resp.headers["retry-after"] = str(wait)
                return resp
            if not name or not password or not await self.call(self.staff.verify, name, password):
                self.limiter.failed(name, client)
                self.log.warning("sign-in failed", staff=await self._known(name), client=client)
                return self.render(request, s, "login.html", status=401, next=nxt,
                                   error="Wrong name or password.")
            self.limiter.succeeded(name)
            self.sessions.drop(request.cookies.get(COOKIE))
            token, _new = self.sessions.new(user=name)
            self.log.info("signed in", staff=name, client=client)
            resp = self._back(nxt)
            self._cookie(request, resp, token)
            return resp

        @app.post(PREFIX + "/logout")
        async def logout(request: Request) -> Response:
            s, _form = await self._posted(request)
            self.sessions.drop(request.cookies.get(COOKIE))
            self._actor(s).info("signed out")
            resp = self._back(f"{PREFIX}/login")
            resp.delete_cookie(COOKIE, path=PREFIX)
            return resp

        # --- merchants --------------------------------------------------------------------------
        @app.get(PREFIX + "/merchants")
        async def merchants(request: Request) -> Response:
            s = await self._staff_session(request)
            rows = await self.call(self._merchant_rows)
            return self.render(request, s, "merchants.html", title="Merchants", nav="merchants", rows=rows)

        @app.get(PREFIX + "/merchants/{merchant}")
        async def merchant(request: Request, merchant: str) -> Response:
            s = await self._staff_session(request)
            creds = await self._merchant(merchant)
            refused = await self.call(self._refusals, creds)
            jobs = await self.call(self._jobs, merchant=merchant, limit=10)
            health = await self.call(self._health, merchant)
            return self.render(request, s, "merchant.html", title=f"Merchant {merchant}", nav="merchants",
                               m=creds.summary(), refused=refused, jobs=jobs, health=health,
                               doctor=self._doctor_available())

        @app.post(PREFIX + "/merchants/{merchant}/password")
        async def new_password(request: Request, merchant: str) -> Response:
            s, form = await self._posted(request)
            await self._merchant(merchant)
            return await self._update_secret(s, merchant, "jobber_password", str(form.get("password") or ""),
                                             "the Jobber password", bool(form.get("resume")))

        @app.post(PREFIX + "/merchants/{merchant}/totp-seed")
        async def new_seed(request: Request, merchant: str) -> Response:
            s, form = await self._posted(request)
            await self._merchant(merchant)
            return await self._update_secret(s, merchant, "totp_seed", str(form.get("totp_seed") or ""),
                                             "the TOTP seed", bool(form.get("resume")))

        @app.post(PREFIX + "/merchants/{merchant}/resume-sign-in")
        async def resume_sign_in(request: Request, merchant: str) -> Response:
            s, _form = await self._posted(request)
            await self._merchant(merchant)
            await self.call(self.vault.clear_sign_in_stop, merchant)
            self._actor(s).info("sign-in resumed after a person cleared Jobber's block", merchant=merchant)
            s.flash("ok", "The robot may sign in again (Jobber's block or CAPTCHA was cleared by a person).")
            return self._back(f"{PREFIX}/merchants/{merchant}")

        # --- jobs ---------------------------------------------------------------------------------
        @app.get(PREFIX + "/jobs")
        async def jobs(request: Request, status: str = "", outcome: str = "", merchant: str = "",
                       kind: str = "") -> Response:
            s = await self._staff_session(request)
            choices = await self.call(self._filter_choices)
            problems = [f"{name}: one of {', '.join(choices[name])}" for name, value in
                        (("status", status), ("outcome", outcome), ("merchant", merchant), ("kind", kind))
                        if value and value not in choices[name]]
            rows = [] if problems else await self.call(self._jobs, status=status, outcome=outcome,
                                                       merchant=merchant, kind=kind)
            return self.render(request, s, "jobs.html", status=422 if problems else 200, title="Jobs",
                               nav="jobs", rows=rows, problems=problems, choices=choices,
                               chosen={"status": status, "outcome": outcome, "merchant": merchant, "kind": kind})

        @app.get(PREFIX + "/jobs/{job_id}")
        async def job(request: Request, job_id: str) -> Response:
            s = await self._staff_session(request)
            v = await self._job(job_id)
            evidence = [name for name in ARTIFACTS if self._artifact_path(v, name) is not None]
            linked = await self.call(self._linked, v.job_id)
            return self.render(request, s, "job.html", title=f"Job {v.job_id}", nav="jobs", v=v,
                               candidates=self._candidates(v), evidence=evidence, linked=linked,
                               terminal=v.status in TERMINAL)

        @app.get(PREFIX + "/jobs/{job_id}/state")
        async def job_state(request: Request, job_id: str) -> Response:
            await self._staff_session(request)
            v = await self._job(job_id)
            return JSONResponse({"status": v.status, "outcome": v.outcome, "step": v.step})

        @app.get(PREFIX + "/jobs/{job_id}/artifacts/{name}")
        async def artifact(request: Request, job_id: str, name: str) -> Response:
            s = await self._staff_session(request)
            v = await self._job(job_id)
            path = self._artifact_path(v, name)
            if path is None:
                self._actor(s).warning("artifact refused", job=v.job_id, name=name[:80])
                raise NotFound("file")
            media, disposition = ARTIFACTS[name]
            resp = FileResponse(path, media_type=media, filename=f"{v.job_id}-{name}",
                                content_disposition_type=disposition)
            resp.headers["content-security-policy"] = "sandbox; default-src 'none'"
            return resp

        @app.post(PREFIX + "/jobs/{job_id}/code")
        async def hand_code(request: Request, job_id: str) -> Response:
            s, form = await self._posted(request)
            v = await self._job(job_id)
            try:
                code = clean_code(str(form.get("code") or ""))
                await self.call(submit_code, self.client, self.settings, v.job_id, code)
            except (InputError, HandoffError) as exc:
                s.flash("error", exc.message)
            else:
                self._actor(s).info("verification code handed over", job=v.job_id)
                s.flash("ok", "Code handed over; the job goes on.")
            return self._back(f"{PREFIX}/jobs/{quote(v.job_id)}")

        @app.post(PREFIX + "/jobs/{job_id}/invoice")
        async def pick_invoice(request: Request, job_id: str) -> Response:
            s, form = await self._posted(request)
            v = await self._job(job_id)
            raw = str(form.get("invoice") or "")
            try:
                if not raw.isdigit() or len(raw) > 12:
                    raise InputError("invoice", "pick one of the candidates")
                await self.call(submit_choice, self.client, v.job_id, int(raw))
            except (InputError, HandoffError) as exc:
                s.flash("error", exc.message)
            else:
                self._actor(s).info("invoice picked", job=v.job_id, choice=int(raw))
                s.flash("ok", "Invoice picked; the job goes on.")
            return self._back(f"{PREFIX}/jobs/{quote(v.job_id)}")

        @app.post(PREFIX + "/jobs/{job_id}/retry")
        async def retry(request: Request, job_id: str) -> Response:
            s, _form = await self._posted(request)
            v = await self._job(job_id)
            try:
                new_id = await self.call(_retry, self.client, v.job_id)
            except RobotError as exc:
                s.flash("error", exc.message)
                return self._back(f"{PREFIX}/jobs/{quote(v.job_id)}")
            self._actor(s).info("job retried", job=v.job_id, new_job=new_id)
            s.flash("ok", "Resumed under the same id." if new_id == v.job_id else f"Enqueued again as {new_id}.")
            return self._back(f"{PREFIX}/jobs/{quote(new_id)}")

        @app.post(PREFIX + "/jobs/{job_id}/cancel")
        async def cancel(request: Request, job_id: str) -> Response:
            s, _form = await self._posted(request)
            v = await self._job(job_id)
            try:
                await self.call(_cancel, self.client, v.job_id)
            except RobotError as exc:
                s.flash("error", exc.message)
            else:
                self._actor(s).info("job cancelled", job=v.job_id)
                s.flash("ok", "Job cancelled.")
            return self._back(f"{PREFIX}/jobs/{quote(v.job_id)}")

        @app.get(PREFIX + "/queue")
        async def queue(request: Request) -> Response:
            s = await self._staff_session(request)
            rows = [v for v in await self.call(self._jobs, limit=500) if v.status in WAITING]
            detailed = [await self._job(v.job_id) for v in rows]  # the question and its deadline
            return self.render(request, s, "queue.html", title="Waiting for a person", nav="queue",
                               rows=[(v, self._candidates(v)) for v in detailed])

        self._doctor_routes(app)
        return app

    # --- doctor (robot/doctor) and health (robot/health.py) -------------------------------------
    def _doctor_available(self) -> bool:
        return True

    def _health(self, merchant: str) -> Any:
        return health.latest(self.settings, merchant)

    def _doctor_routes(self, app: FastAPI) -> None:
        @app.post(PREFIX + "/merchants/{merchant}/doctor")
        async def run_doctor(request: Request, merchant: str) -> Response:
            s, _form = await self._posted(request)
            await self._merchant(merchant)
            run = self.doctor.start(merchant, by=s.user or "?", vault=self.vault)
            self._actor(s).info("doctor run from the dashboard", merchant=merchant)
            return self._back(f"{PREFIX}/doctor/{run.key}")

        @app.get(PREFIX + "/doctor/{key}")
        async def doctor_page(request: Request, key: str) -> Response:
            s = await self._staff_session(request)
            run = self.doctor.get(key)
            if run is None:
                raise NotFound("doctor run")
            return self.render(request, s, "doctor.html", title=f"Doctor · {run.merchant}", nav="merchants",
                               run=run, steps=list(run.steps.values()))

        @app.post(PREFIX + "/doctor/{key}/code")
        async def doctor_code(request: Request, key: str) -> Response:
            s, form = await self._posted(request)
            run = self.doctor.get(key)
            if run is None:
                raise NotFound("doctor run")
            try:
                code = clean_code(str(form.get("code") or ""))
            except InputError as exc:
                s.flash("error", exc.message)
            else:
                if run.answer(code):
                    self._actor(s).info("verification code typed for the doctor", merchant=run.merchant)
                    s.flash("ok", "Code handed to the doctor.")
                else:
                    s.flash("error", "The doctor is not waiting for a code now.")
            return self._back(f"{PREFIX}/doctor/{run.key}")

        @app.get(PREFIX + "/doctor/{key}/events")
        async def doctor_events(request: Request, key: str) -> Response:
            await self._staff_session(request)
            run = self.doctor.get(key)
            if run is None:
                raise NotFound("doctor run")

            async def stream() -> AsyncIterator[str]:
                async for kind, data in run.follow():
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n" if kind == "ping" else json_event(kind, data)

            return StreamingResponse(stream(), media_type="text/event-stream",
                                     headers={"x-accel-buffering": "no"})

    # --- reading -------------------------------------------------------------------------------
    def _refusals(self, creds: Any) -> dict[str, str]:
        out = {}
        at = self.vault.password_refused_at(creds)
        if at:
            out["password"] = f"Jobber refused the stored password at {_when(at)}: the robot will not try it again."
        seed = self.vault.seed_refused(creds)
        if seed:
            out["totp_seed"] = (f"Jobber refused a code made from the stored TOTP seed at {_when(seed.get('at'))}"
                                + (f" ({seed['note']})" if seed.get("note") else "") + ".")
        stopped = self.vault.sign_in_stopped(creds)
        if stopped:
            out["stopped"] = (f"Sign-in stopped at {_when(stopped.get('at'))}: {stopped.get('reason', '')}. "
                              "A person must clear it in Jobber first.")
        return out

    def _merchant_rows(self) -> list[dict[str, Any]]:
        latest = health.latest_all(self.settings)
        last: dict[str, Any] = {}
        for v in self._jobs(limit=200):
            last.setdefault(v.merchant, v)
        rows = []
        for creds in self.vault.list():
            rows.append({"m": creds.summary(), "refused": self._refusals(creds), "last": last.get(creds.merchant),
                         "health": latest.get(creds.merchant)})
        return rows

    def _filter_choices(self) -> dict[str, list[str]]:
        kinds = sorted(t for t in _UNION_TAGS if t not in ("card_on_file", "card_token", "ach_token", "terminal"))
        return {"status": list(STATUSES), "outcome": [o.value for o in Outcome],
                "merchant": [m.merchant for m in self.vault.list()], "kind": kinds}

    def _jobs(self, *, status: str = "", outcome: str = "", merchant: str = "", kind: str = "",
              limit: int = 100) -> list[Any]:
        """Recent jobs, newest first. A job that finished with outcome `failed` counts as failed."""
        rows = list_jobs(self.client, merchant=merchant or None, limit=500)
        out = []
        for v in rows:
            if status and not (v.status == status or (status == "failed" and v.outcome == "failed")):
                continue
            if (outcome and v.outcome != outcome) or (kind and v.kind != kind):
                continue
            out.append(v)
            if len(out) >= limit:
                break
        return out

    def _linked(self, job_id: str) -> dict[str, Any]:
        """The retry links (robot/jobs/links.py): the job this one retries, the jobs that retry it."""
        url = store_url(self.client)
        return {"retry_of": links.retry_of(url, job_id), "retried_as": links.retried_as(url, job_id)}

    @staticmethod
    def _candidates(v: Any) -> list[dict[str, Any]]:
        """The invoices a person may pick from, each with the value to send: Jobber's id when two
        candidates share a number, else the number."""
        raw: list[dict[str, Any]] = []
        if v.waiting_for and v.waiting_for.get("kind") == "confirm":
            raw = list(v.waiting_for.get("candidates") or [])
        elif v.result is not None and v.result.candidates:
            raw = [c.model_dump(mode="json") for c in v.result.candidates]
        numbers = [c.get("invoice") for c in raw]
        out = []
        for c in raw:
            shared = numbers.count(c.get("invoice")) > 1
            value = c.get("invoice_id") if shared and c.get("invoice_id") is not None else c.get("invoice")
            out.append({**c, "value": value, "shared": shared})
        return out

    def _artifact_path(self, v: Any, name: str) -> Path | None:
        """The job's own evidence file `name`, or None. Only the fixed names, only inside the job's
        own folder, only what the job recorded as its evidence, never a link."""
        if name not in ARTIFACTS:
            return None
        root = self.settings.artifacts_dir.resolve()
        folder_name = _ARTIFACT_DIR_RE.sub("_", v.job_id).replace("..", "_").strip(".")[:100] or "job"
        folder = root / folder_name
        path = folder / name
        recorded = set()
        for a in v.artifacts:
            try:
                recorded.add(Path(a).resolve())
            except (OSError, ValueError):
                continue
        try:
            if path.is_symlink() or folder.is_symlink() or not path.is_file():
                return None
            real = path.resolve(strict=True)
        except (OSError, ValueError):
            return None
        if real.parent != folder or not real.is_relative_to(root) or real not in recorded:
            return None
        return real

    async def _update_secret(self, s: Session, merchant: str, field: str, value: str, label: str,
                             resume: bool) -> Response:
        value = value.strip()
        try:
            if not value:
                raise InputError(field, "must not be empty")
            await self.call(self.vault.update, merchant, **{field: value})
            if resume:
                await self.call(self.vault.clear_sign_in_stop, merchant)
        except RobotError as exc:
            s.flash("error", exc.message)
        else:
            self._actor(s).info("merchant secret replaced", merchant=merchant, field=field)
            s.flash("ok", f"Stored {label} replaced; the robot signs in with it from now on.")
        return self._back(f"{PREFIX}/merchants/{merchant}")


def json_event(event: str, data: Any) -> str:
    """One Server-Sent Event."""
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"

