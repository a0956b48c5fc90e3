"""Selectors as data: load `selectors/*.toml`, validate them, resolve them on a live page.

A selector is an ordered list of locators (role/name, label, text, test id, placeholder, css);
the first that resolves wins. A control that resolves by none of them within the action
timeout is reported as `PageDriftError` naming the control ("Collect Payment button not found
on invoice page"), never as a bare Playwright timeout.
"""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union
from urllib.parse import urlparse

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from robot.errors import ConfigError, PageDriftError

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

SELECTORS_DIR = Path(__file__).resolve().parent.parent / "selectors"
DEFAULT_TIMEOUT_MS = 10_000
KINDS = ("role", "label", "text", "test_id", "placeholder", "css")

Root = Union["Page", "Locator"]


_REGEX = re.compile(r"^/(.+)/([imsx]*)$", re.DOTALL)
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


def _regex(value: str) -> re.Pattern[str] | None:
    """`/.../` or `/.../i` (flags i, m, s, x) is a regex; None for plain text."""
    m = _REGEX.match(value)
    if m is None:
        return None
    flags = 0
    for f in m.group(2):
        flags |= _FLAGS[f]
    return re.compile(m.group(1), flags)


def _pattern(value: str) -> str | re.Pattern[str]:
    """A regex for `/.../flags`, anything else plain text."""
    rx = _regex(value)
    return value if rx is None else rx


class LocatorSpec(BaseModel):
    """One way to find a control. Exactly one of the kinds in KINDS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str | None = None
    name: str | None = None
    exact: bool | None = None
    level: int | None = Field(default=None, ge=1, le=6)
    label: str | None = None
    text: str | None = None
    test_id: str | None = None
    placeholder: str | None = None
    css: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "LocatorSpec":
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a locator needs exactly one of {', '.join(KINDS)} (got {given or 'none'})")
        if self.role is None and (self.name is not None or self.level is not None):
            raise ValueError("name/level only go with role")
        if self.exact is not None and self.kind in ("test_id", "css"):
            raise ValueError("exact does not apply to test_id/css")
        for value in (self.name, self.text, self.label, self.placeholder):
            if value is not None and _REGEX.match(value):
                try:
                    _regex(value)
                except re.error as exc:
                    raise ValueError(f"bad regex {value!r}: {exc}") from None
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    def describe(self) -> str:
        if self.role is not None:
            extra = f" name={self.name!r}" if self.name else ""
            return f"role={self.role}{extra}"
        return f"{self.kind}={getattr(self, self.kind)!r}"

    def build(self, root: Root) -> "Locator":
        """The Playwright locator for this spec under `root` (a Page or a Locator)."""
        if self.role is not None:
            kwargs: dict[str, Any] = {}
            if self.name is not None:
                name = _pattern(self.name)
                kwargs["name"] = name
                if self.exact is not None and not isinstance(name, re.Pattern):
                    kwargs["exact"] = self.exact
            if self.level is not None:
                kwargs["level"] = self.level
            return root.get_by_role(self.role, **kwargs)  # type: ignore[arg-type]
        if self.label is not None:
            return root.get_by_label(_pattern(self.label), exact=bool(self.exact))
        if self.text is not None:
            return root.get_by_text(_pattern(self.text), exact=bool(self.exact))
        if self.test_id is not None:
            return root.get_by_test_id(self.test_id)
        if self.placeholder is not None:
            return root.get_by_placeholder(_pattern(self.placeholder), exact=bool(self.exact))
        assert self.css is not None
        return root.locator(self.css)


class SelectorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    scope: str | None = None
    optional: bool = False
    locators: list[LocatorSpec] = Field(min_length=1)


class PageSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    page: str = Field(min_length=1)
    path: str = Field(min_length=1)
    ready: str
    selectors: dict[str, SelectorSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> "PageSpec":
        if self.ready not in self.selectors:
            raise ValueError(f"ready selector {self.ready!r} is not defined")
        for key, sel in self.selectors.items():
            seen = [key]
            scope = sel.scope
            while scope is not None:
                if scope not in self.selectors:
                    raise ValueError(f"selector {key!r}: scope {scope!r} is not defined")
                if scope in seen:
                    raise ValueError(f"selector {key!r}: scope cycle {' -> '.join([*seen, scope])}")
                seen.append(scope)
                scope = self.selectors[scope].scope
        return self

    def selector(self, key: str) -> SelectorSpec:
        try:
            return self.selectors[key]
        except KeyError:
            raise ConfigError(f"no selector {key!r} on page {self.page!r} (selectors/{self.page}.toml)") from None


def load_page(path: Path) -> PageSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        spec = PageSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigError(f"{path}: invalid selectors: {problems}") from None
    if spec.page != path.stem:
        raise ConfigError(f"{path}: page = {spec.page!r} must match the file name {path.stem!r}")
    return spec


def load_selectors(directory: Path | None = None) -> dict[str, PageSpec]:
    """Load and validate every `*.toml` in `directory` (default: the repo's selectors/)."""
    directory = directory or SELECTORS_DIR
    pages = {p.stem: load_page(p) for p in sorted(directory.glob("*.toml"))}
    if not pages:
        raise ConfigError(f"no selector files in {directory}")
    return pages


@lru_cache(maxsize=1)
def registry() -> dict[str, PageSpec]:
    """The repo's selectors, loaded once per process."""
    return load_selectors()


def page_spec(page_key: str) -> PageSpec:
    try:
        return registry()[page_key]
    except KeyError:
        raise ConfigError(f"no selectors for page {page_key!r} (selectors/{page_key}.toml)") from None


# --- resolving on a live page ---------------------------------------------------------------

#: Watches every `require` (the controls the robot actually needs): `fixtures record` sets it to
#: snapshot the page the robot was looking at (observer(locators, key, found)). None otherwise.
RequireObserver = Callable[["PageLocators", str, bool], Awaitable[None]]
require_observer: ContextVar[RequireObserver | None] = ContextVar("require_observer", default=None)


def _page_of(root: Root) -> "Page":
    return root if not hasattr(root, "page") else root.page


class Resolution(BaseModel):
    """What `probe` found for one selector (used by `selectors check`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    page: str
    selector: str
    description: str
    optional: bool
    found: bool
    via: str | None = None  # which locator resolved ("role=button name='Collect Payment'")
    index: int | None = None  # its position: 0 = primary, >0 = a fallback
    status: Literal["ok", "fallback", "missing", "skipped"] = "missing"


class PageLocators:
    """Selectors of one page, resolved under a root (the Page, or a row/dialog Locator).

    `scopes` re-points a scope selector at a known locator, e.g. {"dialog": edit_dialog} to
    reuse the Collect Payment fields inside the Edit Payment dialog, or {"row": row} for one
    payment row.
    """

    def __init__(
        self,
        root: Root,
        page_key: str,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        scopes: dict[str, "Locator"] | None = None,
    ) -> None:
        self.root = root
        self.spec = page_spec(page_key)
        self.timeout_ms = timeout_ms
        self.scopes = dict(scopes or {})
        self._scopes_found: dict[str, "Locator"] = {}  # scope selectors resolved once (a Locator is lazy)

    @property
    def page(self) -> "Page":
        return _page_of(self.root)

    def candidates(self, key: str, under: Root | None = None) -> list["Locator"]:
        """Every locator of `key`, in order, built under `under` (default: the root)."""
        sel = self.spec.selector(key)
        base = under if under is not None else self.root
        return [spec.build(base) for spec in sel.locators]

    async def _scope_root(self, key: str, deadline: float) -> Root | None:
        sel = self.spec.selector(key)
        if sel.scope is None:
            return self.root
        if sel.scope in self.scopes:
            return self.scopes[sel.scope]
        if sel.scope in self._scopes_found:
            return self._scopes_found[sel.scope]
        found = await self._resolve(sel.scope, deadline)
        if found is None:
            return None
        self._scopes_found[sel.scope] = found[0]
        return found[0]

    async def _resolve(self, key: str, deadline: float) -> tuple["Locator", int] | None:
        if key in self.scopes:
            return self.scopes[key], 0
        under = await self._scope_root(key, deadline)
        if under is None:
            return None
        cands = self.candidates(key, under)
        combined = cands[0]
        for extra in cands[1:]:
            combined = combined.or_(extra)
        remaining = (deadline - time.monotonic()) * 1000
        if remaining <= 0:  # "is it there right now?": no waiting at all
            for i, cand in enumerate(cands):
                if await cand.count() > 0:
                    return cand, i
            return None
        try:
            await combined.first.wait_for(state="attached", timeout=remaining)
        except PlaywrightTimeout:
            return None
        except PlaywrightError as exc:
            if "closed" in str(exc).lower():
                raise
            return None
        if len(cands) == 1:
            return cands[0], 0  # the only way to find it just resolved: no second look
        for i, cand in enumerate(cands):
            if await cand.count() > 0:
                return cand, i
        return combined, 0  # it changed under us; the combined locator still points at it

    async def resolve(self, key: str, timeout_ms: int | None = None) -> "Locator | None":
        """The first locator of `key` that resolves within the timeout, else None."""
        deadline = time.monotonic() + (timeout_ms if timeout_ms is not None else self.timeout_ms) / 1000
        found = await self._resolve(key, deadline)
        return found[0] if found else None

    async def require(self, key: str, timeout_ms: int | None = None) -> "Locator":
        """Like `resolve`, but a control that is not there is a PageDriftError naming it.

        (Whether the browser is still in the app at all is the page layer's question: its
        classifier turns drift on a sign-in page into SessionExpired.)
        """
        loc = await self.resolve(key, timeout_ms)
        observer = require_observer.get()
        if observer is not None:
            await observer(self, key, loc is not None)
        if loc is not None:
            return loc
        sel = self.spec.selector(key)
        raise PageDriftError(self.spec.page, key, sel.description, url=_safe_url(self.page))

    async def present(self, key: str) -> bool:
        """Is `key` there right now (no waiting)?"""
        return await self.resolve(key, timeout_ms=0) is not None

    async def expect_ready(self, timeout_ms: int | None = None) -> None:
        """Wait until the page's `ready` selector resolves (its data has loaded)."""
        await self.require(self.spec.ready, timeout_ms)

    async def probe(self, key: str, timeout_ms: int | None = None) -> Resolution:
        sel = self.spec.selector(key)
        deadline = time.monotonic() + (timeout_ms if timeout_ms is not None else self.timeout_ms) / 1000
        found = await self._resolve(key, deadline)
        res = Resolution(page=self.spec.page, selector=key, description=sel.description,
                         optional=sel.optional, found=found is not None)
        if found is not None:
            res.index = found[1]
            res.via = sel.locators[found[1]].describe() if key not in self.scopes else "scope"
            res.status = "ok" if found[1] == 0 else "fallback"
        return res


def _safe_url(page: "Page") -> str | None:
    """The page URL without its query string (it may carry tokens)."""
    try:
        u = urlparse(page.url)
    except Exception:  # pragma: no cover
        return None
    return f"{u.scheme}://{u.netloc}{u.path}"

