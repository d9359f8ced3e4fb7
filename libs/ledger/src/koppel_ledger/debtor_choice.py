"""Which debtor an order is booked on — decided once, here, for every ledger.

The rules, first match wins:

1. **Fixed**: a debtor for the order's payment method (`booking.payment_method_debtors`,
   key `*` for every other method). The merchant named it explicitly, so it wins over
   everything below, business buyers included (the seed's "bol.com" debtor keeps working).

   Then **erased customers** (`koppel_privacy`: the order's personal data was sealed and its
   key is gone): the connection's debtor for erased customers, "Verwijderde klanten", one
   per destination country like the collective debtor — nothing is left to match or create
   a debtor of their own with; the totals and VAT per rate stay the order's.
2. **Business buyers** (a company name or a VAT number on the order) always get a debtor of
   their own: rule 4, whatever `booking.consumers` says.
3. **Consumers** with `booking.consumers = collective` (the default for Bol.com, whose
   customer e-mail is an alias per order): the connection's collective debtor, named
   `booking.collective_debtor_name` or "Consumenten <shop>". It carries no personal data of
   any consumer. Its country is the shop's (NL) unless the order goes to a consumer in
   another country: then it is that country's collective debtor ("Consumenten Bol.com
   (BE)"), because the ledgers need the debtor's country to be the consumer's — SnelStart
   books foreign VAT (OSS) only on a debtor in that country, Octopus' VAT type of a private
   relation depends on it, a UBL buyer states it. So: one collective debtor per connection
   and destination country (the VAT destination: shipping address, else billing).
4. **Own debtor**: with `booking.debtor_matching` on, the customer found by e-mail (created
   when unknown); matching on but no e-mail: no debtor (`no_debtor`, as before); matching off:
   a debtor per order.

Seeds are deterministic (connection, country and name; or the order key), so a ledger that
derives its relation key from the seed finds what an earlier attempt, a crashed process or
another replica created instead of creating it twice. An e-mail match carries no seed: each
ledger keeps the key it has always derived from the e-mail, so relations created before
this module existed are still found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from koppel_bookkeeping.countries import vat_country
from koppel_contracts import BookingOptions, CanonicalOrder, ConsumerDebtor, ShopSystem

from .adapter import Refusal

HOME_COUNTRY = "NL"  # the shop's side: Koppel's merchants sell from the Netherlands
SHOP_NAMES: dict[ShopSystem, str] = {
    ShopSystem.CCVSHOP: "CCV Shop",
    ShopSystem.PRESTASHOP: "PrestaShop",
    ShopSystem.BOL: "Bol.com",
}
COLLECTIVE_PREFIX = "Consumenten"
ERASED_DEBTOR = "Verwijderde klanten"


@dataclass(frozen=True)
class FixedDebtor:
    """The merchant's debtor for this payment method, as configured (the ledger's own
    number, code or id; each ledger checks its form)."""

    value: str
    source: ClassVar[str] = "fixed"


@dataclass(frozen=True)
class CollectiveDebtor:
    """The connection's debtor for all consumers in `country_code`."""

    name: str  # the configured or default name, without the country
    country_code: str
    home: bool  # the shop's own country: the name alone
    seed: str
    source: ClassVar[str] = "collective"

    def label(self, max_length: int | None = None) -> str:
        """The debtor's name as the ledger shows it; shortened to `max_length` by cutting
        the name, never the country, so two countries' debtors never share a name."""
        suffix = "" if self.home else f" ({self.country_code})"
        name = self.name
        if max_length is not None and len(name) + len(suffix) > max_length:
            name = name[: max(1, max_length - len(suffix))].rstrip()
        return f"{name}{suffix}"


@dataclass(frozen=True)
class MatchedDebtor:
    """The customer's own debtor, found (or created) by e-mail."""

    email: str
    business: bool
    source: ClassVar[str] = "matched"


@dataclass(frozen=True)
class OrderDebtor:
    """A debtor of this order alone (matching off)."""

    seed: str
    business: bool
    source: ClassVar[str] = "per_order"


@dataclass(frozen=True)
class NoDebtor:
    """Nothing to book on: matching is on, the order has no e-mail, no debtor is fixed."""

    payment_method: str
    reason_code: ClassVar[str] = "no_debtor"

    def refusal(self) -> Refusal:
        return Refusal(self.reason_code, payment_method=self.payment_method)


DebtorChoice: TypeAlias = FixedDebtor | CollectiveDebtor | MatchedDebtor | OrderDebtor | NoDebtor


def is_business_buyer(order: CanonicalOrder) -> bool:
    """A company name or a VAT number on the order makes the buyer a business."""
    customer = order.customer
    return bool(customer.company_name or order.billing_address.company_name or customer.vat_number)


def collective_name(booking: BookingOptions, shop: ShopSystem | None) -> str:
    configured = (booking.collective_debtor_name or "").strip()
    if configured:
        return configured
    shop_name = SHOP_NAMES.get(shop) if shop is not None else None
    return f"{COLLECTIVE_PREFIX} {shop_name}" if shop_name else COLLECTIVE_PREFIX


def destination_country(order: CanonicalOrder) -> str:
    """Where the goods go, as a member state for VAT (the booking plan's country)."""
    address = order.shipping_address or order.billing_address
    return vat_country(address.country_code)


def choose_debtor(
    order: CanonicalOrder,
    booking: BookingOptions,
    *,
    connection_id: str,
    order_key: str,
    shop: ShopSystem | None = None,
    home_country: str = HOME_COUNTRY,
) -> DebtorChoice:
    """The debtor `order` is booked on (module docstring). Pure: no ledger is asked.

    `shop` names the default collective debtor ("Consumenten Bol.com"); `home_country` is
    the country whose collective debtor carries the name alone.
    """
    debtors = booking.payment_method_debtors
    fixed = debtors.get(order.payment_method or "") or debtors.get("*")
    if fixed is not None:
        return FixedDebtor(fixed)
    if order.sealed:  # revealed, yet still sealed: the customer's key was erased
        country = destination_country(order)
        return CollectiveDebtor(
            name=ERASED_DEBTOR,
            country_code=country,
            home=country == home_country,
            seed=f"erased|{connection_id}|{country}",
        )
    business = is_business_buyer(order)
    if not business and booking.consumers == ConsumerDebtor.COLLECTIVE:
        name = collective_name(booking, shop)
        country = destination_country(order)
        return CollectiveDebtor(
            name=name,
            country_code=country,
            home=country == home_country,
            seed=f"collective|{connection_id}|{country}|{name}",
        )
    email = order.customer.email
    if booking.debtor_matching:
        if not email:
            return NoDebtor(order.payment_method or "-")
        return MatchedDebtor(email, business)
    return OrderDebtor(f"order|{order_key}", business)


__all__ = [
    "ERASED_DEBTOR",
    "HOME_COUNTRY",
    "SHOP_NAMES",
    "CollectiveDebtor",
    "DebtorChoice",
    "FixedDebtor",
    "MatchedDebtor",
    "NoDebtor",
    "OrderDebtor",
    "choose_debtor",
    "collective_name",
    "destination_country",
    "is_business_buyer",
]
