"""A client's page: name, invoices (number, issued date, status, total, balance)."""

from __future__ import annotations

from flows.pages.base import BasePage
from flows.pages.invoices import STATUS_LABELS
from flows.pages.models import ClientInvoice
from flows.pages.parsing import amounts, cells, iso_date, number, status_key


class ClientPage(BasePage):
    page_key = "client"

    async def open(self, client_id: int) -> "ClientPage":
        await self.open_path(f"/clients/{client_id}")
        return self

    async def name(self) -> str:
        return await self._text("name")

    async def invoices(self) -> list[ClientInvoice]:
        await self._el("invoices")
        found = await self.loc.resolve("invoice_row", timeout_ms=0)
        if found is None:
            return []
        out = []
        for row in await found.all():
            text = await row.inner_text()
            parts = cells(text)
            label = next((p for p in parts if p in STATUS_LABELS), "")
            money_values = amounts(text)
            out.append(ClientInvoice(
                id=int(await row.get_attribute("data-invoice-id") or 0), number=number(text) or 0,
                issued_date=iso_date(text), status=status_key(label), status_label=label,
                total=money_values[-2] if len(money_values) >= 2 else money_values[0],
                balance=money_values[-1],
            ))
        return out

    async def open_invoices(self) -> list[ClientInvoice]:
        """Invoices that can take a payment (Awaiting Payment, Past Due)."""
        return [i for i in await self.invoices() if i.is_open]
