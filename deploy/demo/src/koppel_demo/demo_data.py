"""The demo merchants: a coffee roaster (CCV Shop → Octopus), a tea shop (CCV Shop →
SnelStart) and a chocolatier (CCV Shop → Asperion), and orders in their shops."""

from __future__ import annotations

import time
from typing import Any

from koppel_chassis import SecretBox, ServiceSettings
from koppel_cli.connections import publish_connection
from koppel_contracts import (
    ConnectionSettings,
    LedgerConnection,
    Merchant,
    ShopConnection,
)
from koppel_ledger_asperion import demo_asperion_options, demo_seller
from koppel_ledger_asperion import demo_booking as asperion_booking
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import DEMO
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import demo_booking as snelstart_booking

from .ledgers import demo_octopus_ledger
from .system import SystemConfig

CONNECTION_ID = "demo-koffie-ccv-octopus"
MERCHANT_EMAIL = "boekhouding@koffie-demo.nl"
TEA_CONNECTION_ID = "demo-thee-ccv-snelstart"
TEA_MERCHANT_EMAIL = "administratie@thee-demo.nl"
ASPERION_CONNECTION_ID = "demo-chocolade-ccv-asperion"
ASPERION_MERCHANT_EMAIL = "info@chocolade-demo.nl"
ASPERION_BOOKKEEPING_EMAIL = "boekhouding@chocolade-demo.nl"  # where the daily ZIP goes


def demo_connection(
    config: SystemConfig, *, octopus_password: str = DEMO.password, language: str = "nl"
) -> ConnectionSettings:
    box = SecretBox(config.secrets_key)
    return ConnectionSettings(
        merchant=Merchant(
            name="Koffiebranderij Demo", contact_email=MERCHANT_EMAIL, language=language
        ),
        shop=ShopConnection(
            system="ccvshop",
            base_url=config.url(config.ports.ccvshop),
            account_id=config.ccv_public_key,
            credentials={"api_secret": box.encrypt(config.ccv_secret)},
        ),
        ledger=demo_octopus_ledger(
            box, config.url(config.ports.octopus), password=octopus_password
        ),
    )


def demo_tea_connection(
    config: SystemConfig, *, koppelsleutel: str = SNELSTART.main.koppelsleutel
) -> ConnectionSettings:
    """The tea shop books sales bookings in SnelStart (the sandbox's main administration)."""
    box = SecretBox(config.secrets_key)
    return ConnectionSettings(
        merchant=Merchant(name="Theehuis Demo", contact_email=TEA_MERCHANT_EMAIL, language="nl"),
        shop=ShopConnection(
            system="ccvshop",
            base_url=config.url(config.ports.ccvshop_tea),
            account_id=config.ccv_tea_public_key,
            credentials={"api_secret": box.encrypt(config.ccv_tea_secret)},
        ),
        ledger=LedgerConnection(
            system="snelstart",
            base_url=f"{config.url(config.ports.snelstart)}/v2",
            credentials={"koppelsleutel": box.encrypt(koppelsleutel)},
            booking=snelstart_booking(),
        ),
    )


def demo_asperion_connection(
    config: SystemConfig, *, delivery_time: str = "18:00"
) -> ConnectionSettings:
    """The chocolatier gets its invoices as one ZIP of UBL files a day (at `delivery_time`,
    Europe/Amsterdam, or on request), mailed to its bookkeeping address, to import into
    Asperion. There is no Asperion API to call: the ledger's base URL is only a label."""
    box = SecretBox(config.secrets_key)
    seller = demo_seller(
        name="Chocolaterie Demo",
        street="Oudegracht 200",
        postal_code="3511 NR",
        city="Utrecht",
        email="verkoop@chocolade-demo.nl",
    )
    return ConnectionSettings(
        merchant=Merchant(
            name="Chocolaterie Demo", contact_email=ASPERION_MERCHANT_EMAIL, language="nl"
        ),
        shop=ShopConnection(
            system="ccvshop",
            base_url=config.url(config.ports.ccvshop_asperion),
            account_id=config.ccv_asperion_public_key,
            credentials={"api_secret": box.encrypt(config.ccv_asperion_secret)},
        ),
        ledger=LedgerConnection(
            system="asperion",
            base_url="https://asperion.nl",
            booking=asperion_booking(),
            asperion=demo_asperion_options(
                seller=seller,
                bookkeeping_email=ASPERION_BOOKKEEPING_EMAIL,
                delivery_time=delivery_time,
            ),
        ),
    )


async def publish_demo_connection(
    config: SystemConfig, connection: ConnectionSettings, connection_id: str = CONNECTION_ID
) -> None:
    settings = ServiceSettings(
        service_name="koppel-demo",
        kafka_bootstrap_servers=config.kafka_bootstrap,
        topic_prefix=config.isolation,
    )
    await publish_connection(settings, connection_id, connection, time.time_ns() // 1_000_000)


async def wait_until_connected(
    config: SystemConfig,
    connection_id: str = CONNECTION_ID,
    shop_port: int | None = None,
    timeout: float = 30.0,
) -> None:
    """ingest-ccv registers its webhooks in the shop once it has the connection."""
    address = f"{config.url(config.ports.ingest_ccv)}/webhooks/ccvshop/{connection_id}"
    shop_url = config.url(shop_port or config.ports.ccvshop)
    async with CcvShopControl(shop_url) as shop:
        await shop.wait_for_webhooks(address, count=1, timeout=timeout)


DEMO_ORDERS: list[dict[str, Any]] = [
    {},  # the default basket: coffee at 9 %, a mug at 21 %, shipping
    {
        "rows": [
            {"product_name": "Espressomachine Barista", "count": 1, "price": "449.00", "tax": 21},
            {"product_name": "Koffiebonen Crema 1kg", "count": 3, "price": "21.50", "tax": 9},
        ],
        "coupon": {"code": "WELKOM10", "discount": "10", "type": "percentage"},
    },
    {
        "rows": [{"product_name": "Koffiefilters 100st", "count": 4, "price": "3.49", "tax": 21}],
        "customer": {
            "email": "inkoop@kantoor-demo.nl",
            "billingaddress": {"company": "Kantoor BV"},
        },
        "paymethod": "BankTransfer",
    },
]


async def place_paid_order(shop: CcvShopControl, spec: dict[str, Any]) -> dict[str, Any]:
    """A checkout, then the payment: the paid webhook is what makes Koppel book it."""
    order = await shop.seed_order(**spec)
    await shop.mark_paid(order["id"])
    return order
