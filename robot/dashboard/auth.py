"""Dashboard sessions, CSRF tokens and the sign-in rate limit, all held server-side in memory.

- A session is a random token in an HttpOnly, SameSite=Strict cookie scoped to /support (Secure
  over https, or as configured); the server keeps only the token's SHA-256, the staff name, the
  session's CSRF token and its flash messages. Every visitor gets an anonymous session (it
  carries the sign-in form's CSRF token); signing in replaces it with a new one (no fixation).
- Sessions end after `idle` seconds unused, after `absolute` seconds in any case, on sign-out,
  and when `serve` restarts (in memory: a restart signs everyone out, which is the safe side).
- Sign-in failures are counted per name and per client address in a sliding window; past the
  limit the form is refused (429) without checking the password, so guessing is slow and an
  attacker cannot make the server hash passwords without end.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

COOKIE = "jr_support"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Session:
    user: str | None
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(str(sent).encode(), self.csrf.encode())

    def flash(self, kind: str, text: str) -> None:
        self.flashes.append((kind, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out


class Sessions:
    def __init__(self, idle: float, absolute: float = 12 * 3600, limit: int = 10_000) -> None:
        self.idle = idle
        self.absolute = absolute
        self.limit = limit
        self._by_digest: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, user: str | None = None) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        s = Session(user=user)
        with self._lock:
            if len(self._by_digest) >= self.limit:
                self._evict()
            self._by_digest[_digest(token)] = s
        return token, s

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            s = self._by_digest.get(_digest(token))
            if s is None:
                return None
            if now - s.seen > self.idle or now - s.created > self.absolute:
                del self._by_digest[_digest(token)]
                return None
            s.seen = now
            return s

    def drop(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._by_digest.pop(_digest(token), None)

    def _evict(self) -> None:
        """Full (a flood of anonymous visits): drop expired sessions, then the oldest anonymous ones."""
        now = time.monotonic()
        for d, s in list(self._by_digest.items()):
            if now - s.seen > self.idle or now - s.created > self.absolute:
                del self._by_digest[d]
        if len(self._by_digest) >= self.limit:
            anon = sorted((s.seen, d) for d, s in self._by_digest.items() if s.user is None)
            for _, d in anon[: max(1, len(anon) // 2)]:
                del self._by_digest[d]


class LoginLimiter:
    """At most `per_name` failed sign-ins per name and `per_client` per client address within
    `window` seconds."""

    def __init__(self, per_name: int = 5, per_client: int = 20, window: float = 15 * 60) -> None:
        self.per_name = per_name
        self.per_client = per_client
        self.window = window
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and now - q[0] > self.window:
            q.popleft()
        return q

    def retry_after(self, name: str, client: str) -> int:
        """Seconds until a sign-in may be tried again (0: it may be tried now)."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key, limit in ((f"name:{name}", self.per_name), (f"client:{client}", self.per_client)):
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(int(self.window - (now - q[0])) + 1)
            return max(waits, default=0)

    def failed(self, name: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"name:{name}", f"client:{client}"):
                self._recent(key, now).append(now)
            if len(self._fails) > 50_000:  # bounded memory under a spray of names
                for k in [k for k, q in self._fails.items() if not q]:
                    del self._fails[k]

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._fails.pop(f"name:{name}", None)
