"""`selectors suggest`: candidates for a drifted selector, ranked from a snapshot's accessibility
tree, and a TOML patch to review. Never applied by the robot, never read by a flow: a person
reads the patch and decides (a wrong control in a money flow would move money on the wrong line).

Ranking (highest first): the candidate's role against the selector's (a button for a button, a
form field for a label), the words of its accessible name against the selector's names, labels
and description, and the words nearby (its group or dialog, the text just before it). Inside a
scope (the Collect Payment dialog) only that scope's controls are candidates.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from robot.locators import SELECTORS_DIR, LocatorSpec, SelectorSpec, registry

if TYPE_CHECKING:
    from playwright.async_api import Page

FIELD_ROLES = ("textbox", "combobox", "spinbutton", "searchbox", "checkbox", "radio", "slider")
INTERACTIVE = ("button", "link", "menuitem", "tab", "option", *FIELD_ROLES)
STRUCTURAL = ("dialog", "alertdialog", "table", "heading", "group", "region", "menu", "alert", "status", "list")
WORD_ROLES = {"button": "button", "link": "link", "field": "textbox", "select": "combobox", "table": "table",
              "dialog": "dialog", "heading": "heading", "menu": "menuitem", "checkbox": "checkbox", "chip": "group"}
STOP = {"the", "a", "an", "of", "on", "in", "to", "for", "and", "or", "button", "field", "link", "select",
        "menu", "item", "page", "dialog", "table", "heading", "message", "chip", "column", "facts"}

_ITEM = re.compile(r'^(?P<role>[a-z]+)(?: (?P<name>"(?:[^"\\]|\\.)*"))?(?P<attrs>(?: \[[^\]]*\])*)'
                   r'(?P<colon>:(?: (?P<value>.*))?)?$')


@dataclass
class Node:
    role: str
    name: str
    value: str
    depth: int
    index: int
    ancestors: list["Node"] = field(default_factory=list)
    before: list[str] = field(default_factory=list)  # texts/names just before it, nearest first

    def describe(self) -> str:
        return f'{self.role} "{self.name}"' + (f": {self.value}" if self.value else "")


def parse_aria(text: str) -> list[Node]:
    """Playwright's aria snapshot (YAML-like) as a flat list with each node's ancestors."""
    nodes: list[Node] = []
    stack: list[Node] = []
    for line in text.splitlines():
        m = re.match(r"^(\s*)- (.*)$", line)
        if not m:
            continue
        depth = len(m.group(1)) // 2
        item = m.group(2)
        if item[:1] in ("'", '"') and item.endswith(item[:1]):
            try:
                item = str(yaml.safe_load(item))
            except Exception:  # noqa: BLE001 - keep the raw text
                pass
        im = _ITEM.match(item)
        if im is None or im.group("role").startswith("/"):
            continue
        name = json.loads(im.group("name")) if im.group("name") else ""
        value = (im.group("value") or "").strip().strip('"')
        while stack and stack[-1].depth >= depth:
            stack.pop()
        node = Node(role=im.group("role"), name=name, value=value, depth=depth, index=len(nodes),
                    ancestors=list(stack))
        siblings = [n for n in nodes if n.depth == depth and n.ancestors[-1:] == stack[-1:]]
        node.before = [s.name or s.value for s in reversed(siblings[-2:]) if (s.name or s.value)]
        nodes.append(node)
        stack.append(node)
    return nodes


def words(text: str) -> set[str]:
    text = re.sub(r"[\^\$\\()|?*+\[\]{}/]", " ", text)
    return {w for w in re.findall(r"[a-z0-9#]+", text.lower()) if w not in STOP}


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


@dataclass
class Target:
    page: str
    key: str
    spec: SelectorSpec
    roles: list[str]
    tokens: set[str]
    scope: LocatorSpec | None


def target(page: str, key: str) -> Target:
    spec = registry()[page].selectors[key]
    roles = [loc.role for loc in spec.locators if loc.role]
    if not roles:
        if any(loc.label or loc.placeholder for loc in spec.locators):
            roles = ["textbox"]
        for loc in spec.locators:
            if loc.css and loc.css.startswith("select"):
                roles = ["combobox"]
        for word, role in WORD_ROLES.items():
            if not roles and word in spec.description.lower():
                roles = [role]
    tokens: set[str] = set()
    for loc in spec.locators:
        for text in (loc.name, loc.label, loc.text, loc.placeholder):
            if text:
                tokens |= words(text)
    tokens |= words(spec.description)
    scope = None
    if spec.scope is not None:
        scope = registry()[page].selectors[spec.scope].locators[0]
    return Target(page=page, key=key, spec=spec, roles=roles, tokens=tokens, scope=scope)


@dataclass
class Candidate:
    node: Node
    score: float
    locator: LocatorSpec
    resolves: bool | None = None  # checked on the snapshot (unique under the scope)


def _in_scope(node: Node, scope: LocatorSpec | None) -> bool:
    if scope is None:
        return True
    for a in node.ancestors:
        if scope.role and a.role == scope.role and (scope.name is None or a.name == scope.name
                                                    or scope.name.startswith("/")):
            return True
    return False


def rank(t: Target, nodes: list[Node]) -> list[Candidate]:
    out = []
    for n in nodes:
        if n.role not in INTERACTIVE and n.role not in STRUCTURAL:
            continue
        if not n.name:
            continue  # a control without an accessible name: no role locator can name it
        if not _in_scope(n, t.scope):
            continue
        score = 0.0
        if n.role in t.roles:
            score += 3
        elif n.role in FIELD_ROLES and any(r in FIELD_ROLES for r in t.roles):
            score += 1
        score += 4 * _overlap(words(n.name), t.tokens)
        near = set()
        for text in n.before[:1] + [a.name for a in n.ancestors[-1:]]:
            near |= words(text)
        score += 2 * _overlap(near, t.tokens)
        if t.scope is None and n.ancestors and n.ancestors[-1].role in ("dialog", "alertdialog", "menu"):
            score -= 1  # a page-level control is rarely inside a pop-up
        out.append(Candidate(node=n, score=round(score, 3),
                             locator=LocatorSpec(role=n.role, name=n.name, exact=True)))
    out.sort(key=lambda c: (-c.score, c.node.index))
    return out


async def verify(page: "Page", t: Target, cands: list[Candidate]) -> None:
    """Mark each candidate that resolves to exactly one element of the snapshot (under the scope)."""
    root = page
    if t.scope is not None:
        scoped = t.scope.build(page)
        if await scoped.count():
            root = scoped.first  # type: ignore[assignment]
    for c in cands:
        c.resolves = await c.locator.build(root).count() == 1


def _toml_locator(loc: LocatorSpec) -> str:
    parts = []
    for key in ("role", "name", "exact", "level", "label", "text", "test_id", "placeholder", "css"):
        value = getattr(loc, key)
        if value is None:
            continue
        parts.append(f"{key} = {'true' if value is True else 'false' if value is False else json.dumps(value)}")
    return "{ " + ", ".join(parts) + " }"


def patch(page: str, key: str, new: LocatorSpec, directory: Path | None = None) -> str:
    """A unified diff of selectors/PAGE.toml putting `new` first in KEY's locators (old ones kept
    as fallbacks). Printed for review; never written."""
    path = (directory or SELECTORS_DIR) / f"{page}.toml"
    text = path.read_text(encoding="utf-8")
    section = re.search(rf"^\[selectors\.{re.escape(key)}\]\s*$", text, re.M)
    if section is None:
        raise ValueError(f"no [selectors.{key}] in {path.name}")
    start = text.index("locators", section.end())
    open_at = text.index("[", start)
    depth, i = 0, open_at
    while True:
        ch = text[i]
        depth += ch == "["
        depth -= ch == "]"
        if depth == 0:
            break
        i += 1
    old = [_toml_locator(loc) for loc in registry()[page].selectors[key].locators]
    line = "locators = [" + ", ".join([_toml_locator(new), *old]) + "]"
    changed = text[:start] + line + text[i + 1:]
    rel = f"selectors/{page}.toml"
    return "".join(difflib.unified_diff(text.splitlines(True), changed.splitlines(True),
                                        fromfile=f"a/{rel}", tofile=f"b/{rel}"))
