"""Every secret a test run knows, in one place, for the scan after the run (tests/plugin_secrets.py).

Fixed secrets come from where the tests take them: the mock Jobber's and the sandbox's scenario
files (passwords, TOTP seeds, API keys, saved cards), the gateway's test cards, and every
secret-looking literal in the tests' own sources (`SecretStr("…")`, constants named *_PASSWORD,
*_SECRET, *_SEED, *API_KEY, Luhn-valid card numbers, CVVs passed with them). Secrets that exist
only at run time (the cookies the mock set, the SMS codes it sent, every password, code, card
number, CVV, bank account and API key submitted to the mock or the sandbox) are read from the
witness files the servers wrote (fixtures/witness.py).

Kinds: password, totp_seed, code, cookie, card_number, cvv, bank_account, api_key, webhook_secret.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: values too short or too common to scan for as literals (they would match everywhere)
MIN_LITERAL = 6
#: structural patterns: an API key or a webhook secret of the test world, whatever its merchant
PATTERNS: dict[str, str] = {
    "api_key": r"sk_(?:test|live)_[A-Za-z0-9_]{2,}",
    "webhook_secret": r"whsec_[A-Za-z0-9_+/=-]{8,}",
}

_SCENARIO_KEYS = {"password": "password", "secret": "totp_seed", "totp_seed": "totp_seed", "seed": "totp_seed",
                  "api_key": "api_key", "card": "card_number", "number": "card_number", "cvv": "cvv",
                  "account": "bank_account", "webhook_secret": "webhook_secret"}
_NAME_KINDS = [(re.compile(r"PASSWORD$"), "password"), (re.compile(r"(TOTP_)?(SECRET|SEED)$"), "totp_seed"),
               (re.compile(r"API_KEY$|INTAKE_KEY$"), "api_key"), (re.compile(r"WEBHOOK_SECRET$"), "webhook_secret"),
               (re.compile(r"(^|_)ACCOUNT(_NUMBER)?$"), "bank_account")]
_CARD_LITERAL = re.compile(r"^\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}$|^\d{13,19}$")
_CVV_LITERAL = re.compile(r"""(?:cvv|cvc)\s*[=:]\s*["'](\d{3,4})["']|tokenize_card\([^)]*?,\s*["'](\d{3,4})["']\s*\)""",
                          re.I)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


@dataclass
class Registry:
    literals: dict[str, str] = field(default_factory=dict)   # value -> kind (passwords, seeds, cookies, keys)
    cards: set[str] = field(default_factory=set)             # digits only
    codes: set[str] = field(default_factory=set)             # 6 digits
    cvvs: set[str] = field(default_factory=set)
    bank_accounts: set[str] = field(default_factory=set)

    def add(self, kind: str, value: object) -> None:
        if not isinstance(value, str):
            return
        value = value.strip()
        if kind == "card_number":
            digits = re.sub(r"[ .-]", "", value)
            if digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19:
                self.cards.add(digits)
            elif digits.isdigit() and len(digits) >= 12:  # other scripts' digits: found as they are
                self.literals.setdefault(digits, kind)
        elif kind == "code":
            digits = "".join(value.split())
            if digits.isdigit() and len(digits) == 6:
                self.codes.add(digits)
        elif kind == "cvv":
            if value.isdigit() and 3 <= len(value) <= 4:
                self.cvvs.add(value)
        elif kind == "bank_account":
            if value.isascii() and value.isdigit() and len(value) >= 6:
                self.bank_accounts.add(value)
        elif len(value) >= MIN_LITERAL:
            self.literals.setdefault(value, kind)

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for kind in self.literals.values():
            counts[kind] = counts.get(kind, 0) + 1
        for kind, values in (("card_number", self.cards), ("code", self.codes), ("cvv", self.cvvs),
                             ("bank_account", self.bank_accounts)):
            counts[kind] = len(values)
        return counts


def _walk_json(node: object, reg: Registry, key: str | None = None) -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            _walk_json(v, reg, k)
    elif isinstance(node, list):
        for v in node:
            _walk_json(v, reg, key)
    elif isinstance(node, str) and key in _SCENARIO_KEYS:
        kind = _SCENARIO_KEYS[key]
        if kind == "card_number" and not (node.isdigit() and luhn_ok(node)):
            return
        reg.add(kind, node)


def scenario_secrets(reg: Registry, root: Path = ROOT) -> None:
    for folder in (root / "fixtures" / "scenarios", root / "fixtures" / "gateway_sandbox" / "scenarios"):
        for path in sorted(folder.glob("*.json")):
            _walk_json(json.loads(path.read_text()), reg)


def _string_constants(tree: ast.AST) -> Iterable[tuple[str | None, str, ast.AST]]:
    """(assigned name or None, string, node) for every string literal of a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node.value.value, node
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "SecretStr" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield "SecretStr", arg.value, node
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _CARD_LITERAL.match(node.value):
            yield None, node.value, node


def source_secrets(reg: Registry, root: Path = ROOT) -> None:
    """Secret-looking literals in the tests' own sources (the tests are where they come from)."""
    for path in sorted((root / "tests").rglob("*.py")):
        text = path.read_text()
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for name, value, _ in _string_constants(tree):
            if name is None:
                digits = re.sub(r"[ -]", "", value)
                if luhn_ok(digits):
                    reg.add("card_number", digits)
            elif name == "SecretStr":
                reg.add("api_key" if value.startswith("sk_") else "password", value)
            else:
                for pattern, kind in _NAME_KINDS:
                    if pattern.search(name):
                        reg.add(kind, value)
                        break
        for m in _CVV_LITERAL.finditer(text):
            reg.add("cvv", m.group(1) or m.group(2))


def gateway_cards(reg: Registry, root: Path = ROOT) -> None:
    text = (root / "fixtures" / "gateway_sandbox" / "cards.py").read_text()
    for number in re.findall(r"(?<!\d)\d{15,16}(?!\d)", text):
        if luhn_ok(number):
            reg.add("card_number", number)


def witnessed_secrets(reg: Registry, folder: Path) -> None:
    for path in sorted(folder.glob("witness-*.tsv")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            kind, _, value = line.partition("\t")
            reg.add(kind, value)


def build_registry(witness_dir: Path | None = None, root: Path = ROOT) -> Registry:
    reg = Registry()
    scenario_secrets(reg, root)
    gateway_cards(reg, root)
    source_secrets(reg, root)
    reg.cvvs.update({"123", "1234"})  # the sandbox's seeded cards' CVVs (fixtures/gateway_sandbox/core.py)
    if witness_dir is not None and witness_dir.is_dir():
        witnessed_secrets(reg, witness_dir)
    return reg
