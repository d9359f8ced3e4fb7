"""Every shop → ledger pair the demo has, as one table (`pair_table`): how the run connects
it, which shop side places and cancels its orders (`fault_shops`) and which ledger side
reads its books back (`fault_ledgers`). `available_pairs` keeps the ones whose processes
the running system has.

The services reach the sandboxes through the run's fault proxies (`proxied`: the same
config with the proxies' ports), the run itself talks to them directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fault_ledgers import (
    AsperionBooks,
    Books,
    Document,
    Ledger,
    OctopusBooks,
    OctopusSalesBooks,
    SnelStartBooks,
)
from fault_orders import UNMAPPED_RATE
from fault_shops import BOL_EAN_BY_RATE, BolShop, CcvShop, PlacedOrder, PrestaShopShop, Shop
from koppel_demo.demo_data import (
    ASPERION_CONNECTION_ID,
    CONNECTION_ID,
    TEA_CONNECTION_ID,
    demo_asperion_connection,
    demo_connection,
    demo_tea_connection,
    publish_demo_connection,
    wait_until_connected,
)
from koppel_demo.system import SystemConfig
from koppel_sandbox_octopus import DEMO

# The run's modules import the pieces from here, wherever they live.
__all__ = [
    "Books",
    "CcvShop",
    "Document",
    "PairSpec",
    "PlacedOrder",
    "available_pairs",
    "pair_table",
]

Connect = Callable[[SystemConfig, SystemConfig], Awaitable[None]]


async def _connect_coffee(config: SystemConfig, proxied: SystemConfig) -> None:
    await publish_demo_connection(config, demo_connection(proxied))
    await wait_until_connected(config)


async def _connect_tea(config: SystemConfig, proxied: SystemConfig) -> None:
    await publish_demo_connection(config, demo_tea_connection(proxied), TEA_CONNECTION_ID)
    await wait_until_connected(config, TEA_CONNECTION_ID, config.ports.ccvshop_tea)


async def _connect_chocolatier(config: SystemConfig, proxied: SystemConfig) -> None:
    # Deliveries are made on request at the end (the books check): none at a set time.
    connection = demo_asperion_connection(proxied, delivery_time="23:59")
    await publish_demo_connection(config, connection, ASPERION_CONNECTION_ID)
    await wait_until_connected(config, ASPERION_CONNECTION_ID, config.ports.ccvshop_asperion)


async def _connect_prestashop(config: SystemConfig, proxied: SystemConfig) -> None:
    from koppel_demo.prestashop import connect_prestashop, demo_prestashop_connection

    await connect_prestashop(config, demo_prestashop_connection(proxied))


async def _connect_bol(config: SystemConfig, proxied: SystemConfig) -> None:
    """The demo's Bol.com connection, its EAN table plus one EAN at the unmapped rate (the
    refused orders: Bol.com gives no VAT, so only the table can carry that rate)."""
    from koppel_demo.bol import connect_bol, demo_bol_connection

    connection = demo_bol_connection(proxied)
    options = connection.shop.options
    vat_by_ean = {**options.vat_by_ean, BOL_EAN_BY_RATE[UNMAPPED_RATE]: UNMAPPED_RATE}
    shop = connection.shop.model_copy(
        update={"options": options.model_copy(update={"vat_by_ean": vat_by_ean})}
    )
    await connect_bol(config, connection.model_copy(update={"shop": shop}))


def _prestashop_dossier() -> int:
    from koppel_demo.prestashop import PRESTASHOP_DOSSIER_ID

    return int(PRESTASHOP_DOSSIER_ID)


@dataclass
class PairSpec:
    name: str
    connection_id: str
    ingest: str  # the ingest service
    shop: Shop
    ledger: Ledger
    connect: Connect

    @property
    def sandboxes(self) -> list[str]:
        return [s for s in (self.shop.sandbox, self.ledger.sandbox) if s is not None]

    @property
    def sandbox_ports(self) -> dict[str, str]:
        """Sandbox process -> its field in `Ports`."""
        ports = {self.shop.sandbox: self.shop.port_field}
        if self.ledger.sandbox is not None and self.ledger.port_field is not None:
            ports[self.ledger.sandbox] = self.ledger.port_field
        return ports


def pair_table() -> list[PairSpec]:
    """Every pair the demo can have; `available_pairs` keeps those that run."""
    table = [
        PairSpec(
            "CCV Shop → Octopus",
            CONNECTION_ID,
            "ingest-ccv",
            CcvShop("ccvshop-sandbox", "ccvshop"),
            OctopusBooks(DEMO.dossier_id),
            _connect_coffee,
        ),
        PairSpec(
            "CCV Shop → SnelStart",
            TEA_CONNECTION_ID,
            "ingest-ccv",
            CcvShop("ccvshop-tea-sandbox", "ccvshop_tea"),
            SnelStartBooks(),
            _connect_tea,
        ),
        PairSpec(
            "CCV Shop → Asperion",
            ASPERION_CONNECTION_ID,
            "ingest-ccv",
            CcvShop("ccvshop-chocolate-sandbox", "ccvshop_asperion"),
            AsperionBooks(),
            _connect_chocolatier,
        ),
    ]
    try:
        from koppel_demo.prestashop import PRESTASHOP_CONNECTION_ID
    except ImportError:  # a demo without the PrestaShop merchant
        return table
    table.append(
        PairSpec(
            "PrestaShop → Octopus",
            PRESTASHOP_CONNECTION_ID,
            "ingest-prestashop",
            PrestaShopShop(),
            OctopusBooks(_prestashop_dossier()),
            _connect_prestashop,
        )
    )
    try:
        from koppel_demo.bol import BOL_CONNECTION_ID, BOL_DOSSIER_ID
    except ImportError:  # a demo without the Bol.com merchant
        return table
    table.append(
        PairSpec(
            "Bol.com → Octopus",
            BOL_CONNECTION_ID,
            "ingest-bol",
            BolShop(),
            # Bol connections book sales bookings, consumers on one collective debtor.
            OctopusSalesBooks(int(BOL_DOSSIER_ID)),
            _connect_bol,
        )
    )
    return table


def available_pairs(running: set[str]) -> list[PairSpec]:
    """The pairs whose shop sandbox, ingest and ledger service all run."""
    return [
        pair
        for pair in pair_table()
        if {pair.ingest, pair.ledger.service, *pair.sandboxes} <= running
    ]
