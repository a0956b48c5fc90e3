"""The Quotes list: find a quote by its number and open it."""

from __future__ import annotations

from flows.pages.base import BasePage
from flows.pages.parsing import number
from flows.pages.quote import QuotePage
from robot.errors import FlowRefused


class QuoteNotFound(FlowRefused):
    code = "quote_not_found"


class QuotesPage(BasePage):
    page_key = "quotes"

    async def open(self) -> "QuotesPage":
        await self.open_path("/quotes")
        return self

    async def find_id(self, quote_number: int) -> int:
        found = await self.loc.resolve("row", timeout_ms=0)
        if found is not None:
            for row in await found.all():
                if number(await row.inner_text()) == quote_number:
                    return int(await row.get_attribute("data-quote-id") or 0)
        raise QuoteNotFound(f"quote #{quote_number} is not in this Jobber account")

    async def open_quote(self, quote_number: int) -> QuotePage:
        qid = await self.find_id(quote_number)
        return await QuotePage(self.page, self.timeout_ms).open(qid)
