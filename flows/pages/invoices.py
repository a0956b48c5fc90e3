"""The Invoices list: search by number or client, filter by status, open one."""

from __future__ import annotations

from flows.pages.base import BasePage
from flows.pages.invoice import InvoicePage
from flows.pages.models import InvoiceListRow
from flows.pages.parsing import amounts, cells, iso_date, number, status_key
from robot.errors import InvoiceNotFound

STATUS_LABELS = ("Awaiting Payment", "Past Due", "Draft", "Paid", "Bad Debt")
SHORT_LIST = 30  # rows read off the list instead of searching


class InvoicesPage(BasePage):
    page_key = "invoices"

    async def open(self) -> "InvoicesPage":
        await self.open_path("/invoices")
        return self

    async def _reload_after(self, action: object) -> None:
        """Run an action that makes the list re-fetch; wait for the answer and the list."""
        async with self.page.expect_response(
            lambda r: r.request.method == "GET" and "/api/invoices" in r.url, timeout=self.timeout_ms * 2
        ):
            await action  # type: ignore[misc]
        await self.loc.expect_ready()

    async def search(self, text: str) -> list[InvoiceListRow]:
        """Type into "Search invoices" (number or client name); returns the rows shown."""
        box = await self._el("search")
        if await box.input_value() == text:
            return await self.rows()
        await self._reload_after(box.fill(text))
        return await self.rows()

    async def filter_status(self, label: str) -> list[InvoiceListRow]:
        select = await self._el("status_filter")
        await self._reload_after(select.select_option(label=label))
        return await self.rows()

    async def rows(self) -> list[InvoiceListRow]:
        await self.loc.expect_ready()
        found = await self.loc.resolve("row", timeout_ms=0)
        if found is None:
            return []
        out = []
        for row in await found.all():
            text = await row.inner_text()
            parts = cells(text)
            num = number(text) or 0
            label = next((p for p in parts if p in STATUS_LABELS), "")
            money_values = amounts(text)
            client = next((p for p in parts if "#" not in p and p not in STATUS_LABELS
                           and "$" not in p and iso_date(p) is None), "")
            out.append(InvoiceListRow(
                id=int(await row.get_attribute("data-invoice-id") or 0), number=num, client=client,
                status=status_key(label), status_label=label, due_date=iso_date(text),
                total=money_values[-2] if len(money_values) >= 2 else money_values[0],
                balance=money_values[-1],
            ))
        return out

    async def find(self, invoice_number: int) -> InvoiceListRow:
        for row in await self.search(str(invoice_number)):
            if row.number == invoice_number:
                return row
        raise InvoiceNotFound(f"invoice #{invoice_number} is not in this Jobber account")

    async def open_invoice(self, invoice_number: int) -> InvoicePage:
        """Open that invoice (waits for its data): straight from the list when it is listed there
        unsearched and short, else by searching its number (one round trip fewer per job)."""
        listed = await self._listed_ids()
        invoice_id = listed[invoice_number] if invoice_number in listed else (await self.find(invoice_number)).id
        return await InvoicePage(self.page, self.timeout_ms).open(invoice_id)

    async def _listed_ids(self) -> dict[int, int]:
        """Invoice number → id of the rows shown, when the list is neither searched nor long."""
        if await (await self._el("search")).input_value():
            return {}
        found = await self.loc.resolve("row", timeout_ms=0)
        if found is None or await found.count() > SHORT_LIST:
            return {}
        return {r.number: r.id for r in await self.rows()}
