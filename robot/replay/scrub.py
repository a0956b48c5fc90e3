"""The scrubber: what a recording may not carry is replaced before anything is written.

Two passes over the whole recording, held in memory:
1. `learn` reads every exchange and snapshot and collects what must go: values of the fields
   and parameters that carry secrets (`password`, `code`, `state`, `authenticity_token`,
   `ticket`), the CSRF meta and header, cookies, auth headers, known secrets handed in (the
   password, the TOTP seed, API keys), and personal data: clients' names, e-mail addresses,
   phone numbers and addresses (from the app's GraphQL answers and the gateway's, plus the
   e-mail/phone patterns anywhere), card data, gateway ids and timestamps (these two only for
   stable files).
2. `text` / `json` / `url` / `form` replace them with stable fakes assigned in order of first
   appearance ("Client Alpha", "person1@example.com", "state-0001"), so re-recording the same
   scenario writes the same bytes.

`verify` then looks for every collected value (and its URL/HTML-encoded forms) in the output;
one hit refuses the whole write (`ScrubError` names the kind, never the value).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from robot.cards import card_number_spans
from robot.errors import ScrubError

#: form fields / query parameters whose values are secrets, and what they become
PLACEHOLDER_FIELDS = {"password": "[password]", "code": "[code]", "captcha": "[captcha]"}
#: ... and those whose value is an opaque token: replaced by a numbered fake ("state-0001")
TOKEN_FIELDS = {"state": "state", "authenticity_token": "csrf", "ticket": "ticket", "code": "code",
                "id_token": "token", "access_token": "token", "refresh_token": "token"}
#: request/response headers kept in a recording (everything else, cookies and auth included, is dropped)
KEEP_REQUEST_HEADERS = ("content-type",)
KEEP_RESPONSE_HEADERS = ("content-type", "location")
#: JSON keys holding personal data, and card data
PERSON_KEYS = {"email": "email", "phone": "phone", "address": "address"}
NAME_PARENTS = ("client", "clients", "customer", "customers", "billing_details", "holder")
CARD_KEYS = {"card_number", "cvc", "cvv", "account_number", "routing_number"}
#: card expiry: replaced by a fixed fake of the same type (a gateway answer must still parse)
EXPIRY_KEYS = {"exp_month": 12, "exp_year": 2030}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.])(?:\+\d{10,15}|\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4})(?![\w])")
MASKED_PHONE = re.compile(r"(?<![\w])[X•*]{3}-[X•*]{3}-\d{4}(?!\d)")
GATEWAY_ID = re.compile(r"\b([a-z]{2,6})_([0-9a-f]{16})\b")
TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")
CSRF_META = re.compile(r'(<meta name="csrf-token" content=")([^"]*)(")')
HIDDEN_INPUT = re.compile(r'<input\b[^>]*>', re.I)
ARIA_SECRET_FIELD = re.compile(r'^(\s*- textbox "([^"]*(?:code|password|passcode)[^"]*)"[^:\n]*):[ \t]*\S.*$',
                               re.I | re.M)
ATTR = re.compile(r'\b(name|value)="([^"]*)"')

FAKE_PERSON = re.compile(r"person\d+@example\.com|Client [A-Z][a-z]+|Client \d+|\+1555000\d{4}"
                         r"|\d+ Example Street, Springfield")
#: the signed-in user's name as the app shell carries it (`<div id="root" data-name="...">`)
USER_NAME_ATTR = re.compile(r'\bdata-(?:name|user-name|user)="([^"]+)"')
FAKE_NAMES = ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
              "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango")
#: fake timestamps count up from here (one second per distinct real one, in order)
FAKE_EPOCH = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def _variants(value: str) -> set[str]:
    """The forms a value takes in URLs, HTML and JSON."""
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), html.escape(value),
             html.escape(value, quote=False), json.dumps(value)[1:-1]}
    return {f for f in forms if f}


class Scrubber:
    """Learns what to remove, then rewrites text, JSON, URLs and forms with stable fakes."""

    def __init__(self, *, secrets: dict[str, str] | None = None, origins: dict[str, str] | None = None,
                 names: Iterable[str] = ()) -> None:
        # value → fake, in the order first seen (that order is what keeps re-recordings stable)
        self.fakes: dict[str, str] = {}
        self.kinds: dict[str, str] = {}          # value → its kind (for ScrubError, never the value)
        self.forbidden: dict[str, str] = {}      # values that must not appear in output → kind
        self._counters: dict[str, int] = {}
        self.origins = dict(origins or {})       # "http://secure.jobber.test:54321" → "http://secure.jobber.test"
        for kind, value in (secrets or {}).items():
            if value:
                self._add(value, f"[{kind}]", kind)
        for name in names:
            self.person(name, "name")
        self._compiled: re.Pattern[str] | None = None
        self._table: dict[str, str] = {}

    # --- learning ---------------------------------------------------------------------------
    def _next(self, kind: str) -> int:
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return self._counters[kind]

    def _add(self, value: str, fake: str, kind: str, *, forbid: bool = True) -> None:
        if not value or value in self.fakes or value == fake:
            return
        self.fakes[value] = fake
        self.kinds[value] = kind
        if forbid and len(value) >= 4:
            self.forbidden[value] = kind
        self._compiled = None

    def token(self, value: str, kind: str) -> None:
        """An opaque token (state, CSRF, one-time code, cookie value): a numbered fake."""
        if not value or value in self.fakes or re.fullmatch(rf"{kind}-\d{{4}}", value):
            return
        self._add(value, f"{kind}-{self._next(kind):04d}", kind)

    def forbid(self, value: str, kind: str) -> None:
        """A value that is removed structurally (a form's code field): only checked for."""
        if value and len(value) >= 4 and value not in self.fakes:
            self.forbidden[value] = kind

    def person(self, value: str, kind: str) -> None:
        value = value.strip() if isinstance(value, str) else ""
        if not value or value in self.fakes or self._is_fake(value):
            return
        n = self._next(kind)
        if kind == "name":
            fake = f"Client {FAKE_NAMES[n - 1]}" if n <= len(FAKE_NAMES) else f"Client {n}"
        elif kind == "email":
            fake = f"person{n}@example.com"
        elif kind == "phone":
            fake = f"+1555000{n:04d}"
        else:
            fake = f"{n} Example Street, Springfield"
        self._add(value, fake, kind)
        if kind == "email":
            self._add(value.lower(), fake, kind)

    def _is_fake(self, value: str) -> bool:
        return value in self.fakes.values() or bool(FAKE_PERSON.fullmatch(value))

    def learn_url(self, url: str) -> None:
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            self._learn_field(key, value)

    def learn_form(self, body: str) -> None:
        for key, value in parse_qsl(body, keep_blank_values=True):
            self._learn_field(key, value)

    def _learn_field(self, key: str, value: str) -> None:
        if key in ("code",) and re.fullmatch(r"\d{4,8}", value or ""):
            self.forbid(value, "one-time code")   # a 2FA code: removed by its field, never literal
        elif key in TOKEN_FIELDS:
            self.token(value, TOKEN_FIELDS[key])
        elif key in PLACEHOLDER_FIELDS:
            self.forbid(value, key)
        elif key == "username" and EMAIL.fullmatch(value or ""):
            self.person(value, "email")
        if key == "next" or key.endswith("_uri") or key == "returnTo":
            self.learn_url(value)

    def learn_headers(self, headers: dict[str, str]) -> None:
        for name, value in headers.items():
            low = name.lower()
            if low in ("cookie", "set-cookie"):
                for part in re.split(r"[;\n]", value):
                    if "=" in part:
                        k, v = part.split("=", 1)
                        if k.strip().lower() not in ("path", "domain", "expires", "max-age", "samesite"):
                            self.token(v.strip(), "cookie")
            elif low in ("authorization", "x-csrf-token", "x-api-key", "proxy-authorization"):
                secret = value.split(" ", 1)[-1] if low == "authorization" else value
                self.token(secret, "csrf" if low == "x-csrf-token" else "auth")
            elif low == "location":
                self.learn_url(value)

    def learn_html(self, text: str) -> None:
        for m in USER_NAME_ATTR.finditer(text):
            self.person(html.unescape(m.group(1)), "name")
        for m in CSRF_META.finditer(text):
            self.token(html.unescape(m.group(2)), "csrf")
        for tag in HIDDEN_INPUT.findall(text):
            attrs = dict(ATTR.findall(tag))
            name, value = attrs.get("name", ""), html.unescape(attrs.get("value", ""))
            if name in TOKEN_FIELDS or name in PLACEHOLDER_FIELDS or name == "username":
                self._learn_field(name, value)
        self.learn_text(text)

    def learn_json(self, data: Any, parent: str = "") -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                low = key.lower()
                if isinstance(value, str):
                    if low == "name" and parent in NAME_PARENTS:
                        self.person(value, "name")
                    elif low in PERSON_KEYS and value:
                        self.person(value, PERSON_KEYS[low])
                    elif low in CARD_KEYS and value:
                        self.forbid(value, "card data")
                    elif low in ("state", "authenticity_token", "csrf_token", "token_secret"):
                        self.token(value, "state" if low == "state" else "csrf")
                    else:
                        self.learn_text(value)
                else:
                    self.learn_json(value, low)
        elif isinstance(data, list):
            for item in data:
                self.learn_json(item, parent)

    def learn_text(self, text: str) -> None:
        for m in EMAIL.finditer(text):
            self.person(m.group(0), "email")
        for m in PHONE.finditer(text):
            self.person(m.group(0), "phone")
        for number in find_card_numbers(text):
            self.forbid(number, "card number")
        for m in GATEWAY_ID.finditer(text):
            if m.group(0) not in self.fakes and not m.group(2).startswith("0000"):
                prefix = m.group(1)
                self._add(m.group(0), f"{prefix}_{self._next('id:' + prefix):016x}", "gateway id", forbid=False)
        for m in TIMESTAMP.finditer(text):
            stamp = m.group(0)
            if stamp not in self.fakes and not self._is_fake_time(stamp):
                fake = (FAKE_EPOCH + timedelta(seconds=self._next("time"))).isoformat().replace("+00:00", "Z")
                self._add(stamp, fake, "timestamp", forbid=False)

    def _is_fake_time(self, stamp: str) -> bool:
        return stamp.startswith(FAKE_EPOCH.strftime("%Y-%m-%dT%H:")) or stamp in self.fakes.values()

    # --- rewriting --------------------------------------------------------------------------
    def _pattern(self) -> tuple[re.Pattern[str] | None, dict[str, str]]:
        if self._compiled is None:
            table: dict[str, str] = {}
            for origin, canon in self.origins.items():
                for a, b in zip(sorted(_variants(origin)), sorted(_variants(canon)), strict=False):
                    table[a] = b
                table[origin] = canon
                table[quote(origin, safe="")] = quote(canon, safe="")
            for value, fake in self.fakes.items():
                table[value] = fake
                for enc in (lambda v: quote(v, safe=""), lambda v: quote_plus(v, safe=""), html.escape,
                            lambda v: json.dumps(v)[1:-1]):
                    if enc(value) != value:
                        table[enc(value)] = enc(fake)
            keys = sorted(table, key=len, reverse=True)
            self._compiled = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
            self._table = table
        return self._compiled, self._table

    def text(self, text: str) -> str:
        """Literal replacement of everything learnt, then the patterns (masked phones, cards)."""
        rx, table = self._pattern()
        if rx is not None:
            text = rx.sub(lambda m: table[m.group(0)], text)
        text = MASKED_PHONE.sub("XXX-XXX-0000", text)
        for number in find_card_numbers(text):
            text = text.replace(number, "[card]")
        return text

    def aria(self, text: str) -> str:
        """An accessibility tree: what was typed into a code or password field goes first."""
        def _field(m: re.Match[str]) -> str:
            kind = "[password]" if "password" in m.group(2).lower() else "[code]"
            return f'{m.group(1)}: "{kind}"'

        return self.text(ARIA_SECRET_FIELD.sub(_field, text))

    def html(self, text: str) -> str:
        text = CSRF_META.sub(lambda m: m.group(1) + self.text(html.unescape(m.group(2))) + m.group(3), text)

        def _input(m: re.Match[str]) -> str:
            tag = m.group(0)
            name = dict(ATTR.findall(tag)).get("name", "")
            if name in PLACEHOLDER_FIELDS:
                return re.sub(r'\bvalue="[^"]*"', f'value="{PLACEHOLDER_FIELDS[name]}"', tag)
            return tag

        return self.text(HIDDEN_INPUT.sub(_input, text))

    def json(self, data: Any, parent: str = "") -> Any:
        if isinstance(data, dict):
            out = {}
            for key, value in data.items():
                low = key.lower()
                if low in CARD_KEYS and isinstance(value, (str, int)) and value != "":
                    out[key] = "[card]"
                elif low in EXPIRY_KEYS and isinstance(value, int):
                    out[key] = EXPIRY_KEYS[low]
                elif low in PLACEHOLDER_FIELDS and isinstance(value, str):
                    out[key] = PLACEHOLDER_FIELDS[low]
                else:
                    out[key] = self.json(value, low)
            return out
        if isinstance(data, list):
            return [self.json(v, parent) for v in data]
        if isinstance(data, str):
            return self.text(data)
        return data

    def url(self, url: str) -> str:
        url = self.text_origin(url)
        parts = urlsplit(url)
        if not parts.query:
            return self.text(url)
        pairs = [(k, self._field(k, v)) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
        return urlunsplit((parts.scheme, parts.netloc, self.text(parts.path), urlencode(pairs, quote_via=quote),
                           self.text(parts.fragment)))

    def text_origin(self, url: str) -> str:
        for origin, canon in sorted(self.origins.items(), key=lambda kv: -len(kv[0])):
            if url.startswith(origin):
                return canon + url[len(origin):]
        return url

    def _field(self, key: str, value: str) -> str:
        if key in PLACEHOLDER_FIELDS and not (key == "code" and value in self.fakes):
            return PLACEHOLDER_FIELDS[key] if value else value
        if key == "next" or key.endswith("_uri") or key == "returnTo":
            return self.url(value)
        return self.text(value)

    def form(self, body: str) -> str:
        pairs = [(k, self._field(k, v)) for k, v in parse_qsl(body, keep_blank_values=True)]
        return urlencode(pairs, quote_via=quote_plus)

    # --- checking ---------------------------------------------------------------------------
    def verify(self, files: dict[str, str]) -> None:
        """Refuse the write when any collected value is still in any file (kind named, not value)."""
        table: dict[str, str] = {}
        for value, kind in self.forbidden.items():
            for form in _variants(value):
                if len(form) >= 4:
                    table[form] = kind
        if not table:
            return
        rx = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))
        for path, text in files.items():
            for m in rx.finditer(text):
                hit = m.group(0)
                if hit.isdigit() and (_digit_at(text, m.start() - 1) or _digit_at(text, m.end())):
                    continue  # a 2FA code's digits inside a longer number are not that code
                raise ScrubError(f"the scrubber left a {table[hit]} in {path}; nothing was written")


def find_card_numbers(text: str) -> list[str]:
    return [text[a:b] for a, b in card_number_spans(text)]


def _digit_at(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isdigit()


def scrub_form_value(key: str, value: str) -> str:
    """The placeholder a replayed form's secret field is compared as (the recording holds it)."""
    return PLACEHOLDER_FIELDS.get(key, value) if value else value


def scrub_form(body: str) -> str:
    """A live form body (replay) with its secret fields as the recording holds them."""
    pairs = [(k, scrub_form_value(k, v)) for k, v in parse_qsl(body, keep_blank_values=True)]
    return urlencode(pairs, quote_via=quote_plus)
