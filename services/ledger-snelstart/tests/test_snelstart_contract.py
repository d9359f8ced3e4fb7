"""ledger-snelstart passes the ledger runtime's contract against the SnelStart sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from koppel_contracts import ConnectionSettings
from koppel_ledger.testing import HeldDocument, LedgerContract
from koppel_ledger_snelstart.mapping import order_number_of
from koppel_sandbox_snelstart import DEMO, demo_booking

from .helpers import demo_settings

ADMIN = DEMO.main.administratie_id
BOOKINGS = "verkoopboekingen"


class SnelStartHarness:
    # Invoice numbers derive from the order number: a number held by someone else's booking
    # is the merchant's to resolve, never a reason to book under another number.
    numbers_are_ours = False

    def __init__(self, snelstart, secrets_key: str, adapter) -> None:
        self.snelstart = snelstart
        self.secrets_key = secrets_key
        self.key = DEMO.main.koppelsleutel
        self.adapter = adapter

    @property
    def control(self):
        return self.snelstart.control

    def settings(self, **changes) -> ConnectionSettings:
        return demo_settings(
            self.snelstart.url, self.secrets_key, koppelsleutel=self.key, **changes
        )

    def unknown_account(self) -> ConnectionSettings:
        booking = demo_booking()
        vat = [m.model_copy(update={"ledger_account": "8999"}) for m in booking.vat_accounts]
        return self.settings(booking=booking.model_copy(update={"vat_accounts": vat}))

    def wrong_vat_code(self) -> ConnectionSettings:
        # 9 % mapped to SnelStart's high kind (21 %) on an account that takes it.
        booking = demo_booking()
        vat = [
            m.model_copy(update={"vat_code": "Hoog", "ledger_account": "8000"})
            if m.vat_rate == 9
            else m
            for m in booking.vat_accounts
        ]
        return self.settings(booking=booking.model_copy(update={"vat_accounts": vat}))

    async def documents(self) -> list[HeldDocument]:
        return [
            HeldDocument(
                number=str(b["factuurnummer"]),
                reference=order_number_of(str(b.get("omschrijving") or "")),
                total_incl_vat=Decimal(str(b["factuurbedrag"])),
                credit=Decimal(str(b["factuurbedrag"])) < 0,
            )
            for b in await self.control.bookings(ADMIN)
        ]

    async def refuse_credentials(self) -> ConnectionSettings:
        # The merchant regenerates the koppelsleutel in SnelStart Web.
        self.key = await self.control.regenerate_koppelsleutel(self.key)
        return self.settings()

    async def fail_creates(self, status: int, times: int, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        await self.control.add_fault(
            status=status, path=f"{BOOKINGS}$", method="POST", times=times, headers=headers
        )

    async def time_out_creates(self, times: int) -> None:
        await self.control.add_fault(timeout=True, path=f"{BOOKINGS}$", method="POST", times=times)

    async def tamper_next(self, total_delta: Decimal) -> None:
        await self.control.tamper_next_booking(ADMIN, str(total_delta))

    async def take_number_of(self, order_number: str) -> None:
        """A booking typed in by hand under the invoice number the order will get."""
        settings = self.settings()
        session = self.adapter.session("hand", settings)
        klant = DEMO.main.relaties["webshop_klanten"]
        await session.client.create_booking(
            {
                "factuurnummer": order_number,
                "klant": {"id": klant},
                "factuurdatum": "2026-11-20T00:00:00",
                "omschrijving": "met de hand ingevoerd",
                "factuurbedrag": Decimal("12.10"),
                "boekingsregels": [
                    {
                        "grootboek": DEMO.main.grootboek("revenue_hoog"),
                        "bedrag": Decimal("10.00"),
                        "btwSoort": "Hoog",
                    }
                ],
                "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("2.10")}],
            }
        )


class TestSnelStartContract(LedgerContract):
    @pytest.fixture
    async def harness(self, snelstart, secrets_key, adapter_for) -> AsyncIterator[SnelStartHarness]:
        yield SnelStartHarness(snelstart, secrets_key, adapter_for())


ORDER_ARTICLES = {"Hoog": "1001", "Laag": "1002", "Geen": "1003"}


class SnelStartOrderHarness(SnelStartHarness):
    """Order mode: concept verkooporders, found again by their orderreferentie."""

    def settings(self, **changes) -> ConnectionSettings:
        articles = changes.pop("order_articles", ORDER_ARTICLES)
        return super().settings(mode="order", order_articles=articles, **changes)

    missing_account_code = "order_article_unknown"

    def unknown_account(self) -> ConnectionSettings:
        # What order mode books on is an article: one SnelStart does not have.
        return self.settings(order_articles={**ORDER_ARTICLES, "Laag": "9999"})

    async def documents(self) -> list[HeldDocument]:
        return [
            HeldDocument(
                number=str(o.get("orderreferentie") or ""),
                reference=order_number_of(str(o.get("omschrijving") or "")),
                total_incl_vat=Decimal(str(o["totaalInclusiefBtw"])),
                credit=Decimal(str(o["totaalInclusiefBtw"])) < 0,
            )
            for o in await self.control.orders(ADMIN)
        ]

    async def fail_creates(self, status: int, times: int, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        await self.control.add_fault(
            status=status, path="verkooporders$", method="POST", times=times, headers=headers
        )

    async def time_out_creates(self, times: int) -> None:
        await self.control.add_fault(
            timeout=True, path="verkooporders$", method="POST", times=times
        )


class TestSnelStartOrderContract(LedgerContract):
    # SnelStart numbers orders itself and does not refuse a repeated orderreferentie, so no
    # number can be "held by someone else"; the sandbox cannot alter an order after the fact.
    not_applicable = frozenset({"number_taken", "read_back_difference"})

    @pytest.fixture
    async def harness(self, snelstart, secrets_key, adapter_for) -> AsyncIterator[SnelStartHarness]:
        yield SnelStartOrderHarness(snelstart, secrets_key, adapter_for())
