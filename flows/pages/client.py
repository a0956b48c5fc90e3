"""A client's page: name, invoices (number, issued date, status, total, balance)."""

from __future__ import annotations

from flows.pages.base import BasePage
from flows.pages.models import ClientInvoice
from flows.pages.parsing import integer, money_or_zero, page_date, status_key
from flows.pages.table import id_from_link, read_table


class ClientPage(BasePage):
    page_key = "client"

    async def open(self, client_id: int) -> "ClientPage":
        await self.open_path(f"/clients/{client_id}")
        return self

    async def name(self) -> str:
        return await self._text("name")

    async def invoices(self) -> list[ClientInvoice]:
        table = await read_table(await self._el("invoices"))
        out = []
        for row in table.rows:
            label = row.cell("Status")
            out.append(ClientInvoice(
                id=id_from_link(row.link("Invoice #", "Invoice", "Number")) or id_from_link(row.link()) or 0,
                number=integer(row.cell("Invoice #", "Invoice", "Number")) or 0,
                issued_date=page_date(row.cell("Issued", "Issued date")), status=status_key(label),
                status_label=label, total=money_or_zero(row.cell("Total")),
                balance=money_or_zero(row.cell("Balance"))))
        return out

    async def open_invoices(self) -> list[ClientInvoice]:
        """Invoices that can take a payment (Awaiting Payment, Past Due)."""
        return [i for i in await self.invoices() if i.is_open]
