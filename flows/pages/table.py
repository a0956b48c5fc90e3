"""Reading a table by its column headers, the way a person reads it.

A cell is taken from its column, never guessed from what its text looks like: a client called
"Paid $5 #3 Ltd" stays a client name. The whole table is read in one round trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

if TYPE_CHECKING:
    from playwright.async_api import Locator

_READ = """(table) => {
  const heads = [...table.querySelectorAll('thead th')].map(th => th.innerText.trim());
  const rows = [];
  for (const tr of table.querySelectorAll('tbody tr')) {
    const tds = [...tr.children];
    if (tds.length !== heads.length) continue;   // an empty-state row spans the table
    const cells = {}, links = {}, inputs = {};
    tds.forEach((td, i) => {
      cells[heads[i]] = td.innerText.trim();
      const a = td.querySelector('a[href]');
      if (a) links[heads[i]] = a.getAttribute('href');
      const input = td.querySelector('input');
      if (input) inputs[heads[i]] = input.getAttribute('aria-label') || input.id || input.name || '';
    });
    rows.push({cells, links, inputs});
  }
  return {heads, rows};
}"""


class TableRow(BaseModel):
    cells: dict[str, str]
    links: dict[str, str] = {}
    inputs: dict[str, str] = {}      # header → the input's label (amount fields of New Payment)

    def cell(self, *names: str) -> str:
        """The cell under the first header named (case-insensitive), "" when none."""
        wanted = [n.casefold() for n in names]
        for head, text in self.cells.items():
            if head.casefold() in wanted:
                return text
        return ""

    def link(self, *names: str) -> str | None:
        wanted = [n.casefold() for n in names]
        for head, href in self.links.items():
            if head.casefold() in wanted:
                return href
        return next(iter(self.links.values()), None) if not names else None


class Table(BaseModel):
    heads: list[str]
    rows: list[TableRow]

    def has(self, *names: str) -> bool:
        lowered = {h.casefold() for h in self.heads}
        return all(n.casefold() in lowered for n in names)


async def read_table(table: "Locator") -> Table:
    return Table.model_validate(await table.first.evaluate(_READ))


def id_from_link(href: str | None) -> int | None:
    """The record id at the end of an app link ("/invoices/12" → 12)."""
    if not href:
        return None
    tail = href.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None
