"""The Invoices list: search by number or client, filter by status chip, open one.

Invoice numbers need not be unique in Jobber: an invoice is found by number *and* client (and
amount when given); two that still match are handed to a person, never guessed.
"""

from __future__ import annotations

from decimal import Decimal

from flows.pages.base import BasePage
from flows.pages.graphql import expect_operation
from flows.pages.invoice import InvoicePage
from flows.pages.models import InvoiceListRow
from flows.pages.parsing import integer, money_or_zero, page_date, status_key
from flows.pages.table import id_from_link, read_table
from robot.errors import InvoiceNotFound

SHORT_LIST = 30  # rows read off the list instead of searching


def same_client(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


class InvoicesPage(BasePage):
    page_key = "invoices"

    async def open(self) -> "InvoicesPage":
        await self.open_path("/invoices")
        return self

    async def _reload_after(self, action: object) -> None:
        """Run an action that makes the list re-fetch; wait for Jobber's answer and the list."""
        async with expect_operation(self.page, "InvoicesList", timeout_ms=self.timeout_ms * 2):
            await action  # type: ignore[misc]
        await self.wait_ready()

    async def search(self, text: str) -> list[InvoiceListRow]:
        """Type into "Search invoices" (number or client name); returns the rows shown."""
        box = await self._el("search")
        if await box.input_value() == text:
            return await self.rows()
        await self._reload_after(box.fill(text))
        return await self.rows()

    async def filter_status(self, label: str) -> list[InvoiceListRow]:
        chips = await self._el("status_filter")
        await self._reload_after(chips.get_by_role("button", name=label, exact=True).click())
        return await self.rows()

    async def rows(self) -> list[InvoiceListRow]:
        await self.wait_ready()
        table = await read_table(await self._el("table"))
        out = []
        for row in table.rows:
            invoice_id = id_from_link(row.link("Invoice #", "Invoice", "Number")) or id_from_link(row.link())
            label = row.cell("Status")
            out.append(InvoiceListRow(
                id=invoice_id or 0, number=integer(row.cell("Invoice #", "Invoice", "Number")) or 0,
                client=row.cell("Client"), subject=row.cell("Subject"), status=status_key(label),
                status_label=label, due_date=page_date(row.cell("Due", "Due date")),
                total=money_or_zero(row.cell("Total")), balance=money_or_zero(row.cell("Balance")),
            ))
        return out

    async def matching(self, invoice_number: int, client: str | None = None,
                       amount: Decimal | None = None) -> list[InvoiceListRow]:
        """Every invoice with that number (and client, and balance or total when given)."""
        rows = [r for r in await self.search(str(invoice_number)) if r.number == invoice_number]
        if client is not None:
            rows = [r for r in rows if same_client(r.client, client)]
        if amount is not None and len(rows) > 1:
            exact = [r for r in rows if amount in (r.balance, r.total)]
            rows = exact or rows
        return rows

    async def find(self, invoice_number: int) -> InvoiceListRow:
        rows = await self.matching(invoice_number)
        if not rows:
            raise InvoiceNotFound(f"invoice #{invoice_number} is not in this Jobber account")
        return rows[0]

    async def open_invoice(self, invoice_number: int) -> InvoicePage:
        """Open that invoice (waits for its data): straight from the list when it is listed there
        unsearched, short and unique, else by searching its number."""
        listed = await self._listed_ids()
        invoice_id = listed.get(invoice_number) or (await self.find(invoice_number)).id
        return await InvoicePage(self.tab).open(invoice_id)

    async def _listed_ids(self) -> dict[int, int]:
        """Invoice number → id of the rows shown, when the list is neither searched nor long and
        the number appears once."""
        if await (await self._el("search")).input_value():
            return {}
        rows = await self.rows()
        if len(rows) > SHORT_LIST:
            return {}
        counts: dict[int, int] = {}
        for r in rows:
            counts[r.number] = counts.get(r.number, 0) + 1
        return {r.number: r.id for r in rows if counts[r.number] == 1}
