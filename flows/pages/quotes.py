"""The Quotes list: find a quote by its number and open it."""

from __future__ import annotations

from flows.pages.base import BasePage
from flows.pages.parsing import integer
from flows.pages.quote import QuotePage
from flows.pages.table import id_from_link, read_table
from robot.errors import QuoteNotFound


class QuotesPage(BasePage):
    page_key = "quotes"

    async def open(self) -> "QuotesPage":
        await self.open_path("/quotes")
        return self

    async def find_id(self, quote_number: int) -> int:
        table = await read_table(await self._el("table"))
        for row in table.rows:
            if integer(row.cell("Quote #", "Quote", "Number")) == quote_number:
                found = id_from_link(row.link("Quote #", "Quote", "Number")) or id_from_link(row.link())
                if found:
                    return found
        raise QuoteNotFound(f"quote #{quote_number} is not in this Jobber account")

    async def open_quote(self, quote_number: int) -> QuotePage:
        qid = await self.find_id(quote_number)
        return await QuotePage(self.tab).open(qid)
