"""The fourth demo merchant: a coffee and tea shop on PrestaShop that books concept invoices
in Octopus, in a dossier of its own. PrestaShop has no webhooks: ingest-prestashop polls the
shop's webservice, so a paid order reaches Octopus a poll interval later.

The shop is the PrestaShop sandbox's demo shop (its webservice key, four orders placed when
it starts: three paid, one cancelled before payment); the dossier is the Octopus sandbox's
second dossier, whose invoicing module the demo switches on.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
from koppel_chassis import SecretBox
from koppel_contracts import (
    ConnectionSettings,
    Merchant,
    ShopConnection,
    ShopOptions,
)
from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_sandbox_prestashop import DEMO_KEY, PrestaShopControl

from .config import SystemConfig
from .ledgers import demo_octopus_ledger
from .polled import publish_polled_connection

PRESTASHOP_CONNECTION_ID = "demo-bonen-prestashop-octopus"
PRESTASHOP_MERCHANT_EMAIL = "boekhouding@bonen-demo.nl"
# The Octopus sandbox's second dossier: the coffee roaster's invoices stay in the first.
PRESTASHOP_DOSSIER_ID = DEMO.second_dossier_id

# PrestaShop states (a default install, §10 of the API notes): 2 payment accepted (paid),
# 10 awaiting bank wire (not paid), 6 cancelled.
PAID = 2
AWAITING_BANK_WIRE = 10

COFFEE = {"name": "Koffiebonen Espresso 1 kg", "reference": "KB-ESP-1000", "tax_rate": "9"}
MUG = {"name": "Koffiemok wit 300 ml", "reference": "MOK-WIT-300", "tax_rate": "21"}
GRINDER = {"name": "Handkoffiemolen RVS", "reference": "MOL-RVS", "tax_rate": "21"}
TEA = {"name": "Biologische groene thee 100 g", "reference": "TH-GRN-100", "tax_rate": "9"}

PRESTASHOP_DEMO_ORDERS: list[dict[str, Any]] = [
    # iDEAL: paid at checkout. Coffee at 9 %, a mug at 21 %, PostNL shipping at 21 %.
    {
        "customer": {"email": "lisa@example.nl", "firstname": "Lisa", "lastname": "Smit"},
        "rows": [
            {**COFFEE, "price_tax_incl": "24.95", "quantity": 2},
            {**MUG, "price_tax_incl": "12.10", "quantity": 1},
        ],
        "state": PAID,
    },
    # A business by bank transfer: awaiting the wire first, paid a moment later; its
    # company and VAT number are on the invoice address.
    {
        "customer": {
            "email": "inkoop@koffiekamer.nl",
            "firstname": "Daan",
            "lastname": "Mulder",
            "company": "De Koffiekamer B.V.",
        },
        "invoice_address": {
            "company": "De Koffiekamer B.V.",
            "vat_number": "NL001234567B02",
            "address1": "Vismarkt 12",
            "postcode": "3811 AB",
            "city": "Amersfoort",
        },
        "rows": [
            {**GRINDER, "price_tax_incl": "49.95", "quantity": 1},
            {**TEA, "price_tax_incl": "6.49", "quantity": 4},
        ],
        "cart_rules": [{"name": "Zakelijk 10%", "percent": "10"}],
        "state": AWAITING_BANK_WIRE,
    },
]


def demo_prestashop_connection(
    config: SystemConfig, *, webservice_key: str = DEMO_KEY, language: str = "nl"
) -> ConnectionSettings:
    """The PrestaShop shop, its orders bookable once paid, booked as the coffee roaster's
    are (the same VAT mapping and journal) in the second Octopus dossier."""
    box = SecretBox(config.secrets_key)
    return ConnectionSettings(
        merchant=Merchant(
            name="Bonenhuis Demo", contact_email=PRESTASHOP_MERCHANT_EMAIL, language=language
        ),
        shop=ShopConnection(
            system="prestashop",
            base_url=config.url(config.ports.prestashop),
            credentials={"webservice_key": box.encrypt(webservice_key)},
            options=ShopOptions(trigger_statuses=["paid"]),
        ),
        ledger=demo_octopus_ledger(
            box, config.url(config.ports.octopus), dossier_id=PRESTASHOP_DOSSIER_ID
        ),
    )


async def open_prestashop_dossier(config: SystemConfig) -> None:
    """The second dossier comes with its invoicing module off (the sandbox's case for a
    merchant without it); this merchant has it, so concept invoices can be made."""
    async with OctopusControl(config.url(config.ports.octopus)) as octopus:
        await octopus.set_invoice_module(PRESTASHOP_DOSSIER_ID, True)


async def connect_prestashop(
    config: SystemConfig,
    connection: ConnectionSettings | None = None,
    *,
    timeout: float = 30.0,
) -> int:
    """Publish the merchant's connection and wait until ingest-prestashop polls with it.
    Returns the settings version published."""
    await open_prestashop_dossier(config)
    return await publish_polled_connection(
        config,
        "ingest-prestashop",
        PRESTASHOP_CONNECTION_ID,
        connection or demo_prestashop_connection(config),
        timeout=timeout,
    )


async def place_paid_prestashop_order(
    shop: PrestaShopControl, spec: dict[str, Any]
) -> dict[str, Any]:
    """A checkout; an order awaiting its bank wire is then paid. Returns the order as the
    shop has it (`id`, `reference`, `total_paid_tax_incl`, ...) with its `order_details`."""
    placed = await shop.create_order(**spec)
    if int(spec.get("state", PAID)) == AWAITING_BANK_WIRE:
        placed = await shop.set_state(int(placed["order"]["id"]), PAID)
    return {**placed["order"], "order_details": placed["order_details"]}


def order_line(order: dict[str, Any]) -> str:
    """`order ABCDEFGHI (€ 68.95)`: how the demo names a PrestaShop order."""
    return f"order {order['reference']} (€ {Decimal(str(order['total_paid_tax_incl'])):.2f})"


async def newest_order_id(config: SystemConfig) -> int | None:
    """The newest order of the shop, asked the way Koppel asks: the webservice with the key."""
    url = f"{config.url(config.ports.prestashop)}/api/orders"
    params = {"sort": "[id_DESC]", "limit": "1", "output_format": "JSON"}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url, params=params, auth=(DEMO_KEY, ""))
    response.raise_for_status()
    found = response.json()
    orders = found.get("orders") if isinstance(found, dict) else None
    return int(orders[0]["id"]) if orders else None


async def edit_newest_order(config: SystemConfig) -> dict[str, Any] | None:
    """The merchant adds one of the first line's product to the newest order (in place, as
    PrestaShop's back office does): Koppel publishes an amendment."""
    order_id = await newest_order_id(config)
    if order_id is None:
        return None
    async with PrestaShopControl(config.url(config.ports.prestashop)) as shop:
        first = (await shop.order(order_id))["order_details"][0]
        quantity = int(first["product_quantity"]) + 1
        edited = await shop.edit_order(order_id, quantities={str(first["id"]): quantity})
    return dict(edited["order"])


async def cancel_newest_order(config: SystemConfig) -> dict[str, Any] | None:
    """The merchant cancels the newest order: Koppel publishes the cancellation."""
    order_id = await newest_order_id(config)
    if order_id is None:
        return None
    async with PrestaShopControl(config.url(config.ports.prestashop)) as shop:
        cancelled = await shop.cancel_order(order_id)
    return dict(cancelled["order"])


async def print_prestashop_invoices(config: SystemConfig, say: Callable[[str], None]) -> None:
    """The PrestaShop merchant's invoices and credit notes in its Octopus dossier."""
    async with OctopusControl(config.url(config.ports.octopus)) as octopus:
        invoices = await octopus.invoices(PRESTASHOP_DOSSIER_ID)
    say(f"Octopus — concept invoices of the PrestaShop merchant (dossier {PRESTASHOP_DOSSIER_ID}):")
    if not invoices:
        say("  none yet")
    for invoice in invoices:
        totals = invoice.get("_sandbox", {})
        total = Decimal(str(totals.get("totalInclVat", "0")))
        kind = "credit" if total < 0 else ("booked" if totals.get("booked") else "concept")
        number = f"{invoice['journalKey']} {invoice['documentSequenceNr']:>4}"
        reference = invoice.get("reference", "")
        say(f"  {number}  {kind:<8} reference {reference:<12} € {total:>9}")
