"""The payment gateway module: one typed async interface (`Gateway`), its HTTP client, models, errors.

    from robot.gateway import gateway_for
    async with gateway_for(settings, creds.gateway) as gw:
        txn = await gw.charge_card_on_file("cus_chen", Decimal("150.00"), idempotency_key=job_key)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robot.gateway.base import Gateway
from robot.gateway.errors import *  # noqa: F403
from robot.gateway.errors import GatewayError
from robot.gateway.http import HttpGateway
from robot.gateway.models import *  # noqa: F403

if TYPE_CHECKING:
    from robot.gateway.http import HttpGateway
    from robot.vault import GatewayCredentials


def gateway_for(settings: Any, creds: "GatewayCredentials", *, base_url: str | None = None, **options: Any) -> "HttpGateway":
    """The gateway client for one merchant: URL from settings (or `base_url`), API key from the vault."""
    return HttpGateway(base_url or settings.gateway_url, creds, **options)


__all__ = ["Gateway", "GatewayError", "gateway_for"]
