"""Reading one order and everything its mapping needs from the webservice (§6).

Per order: its order_details, cart rules, customer (only the fields used: never the
password hash), both addresses in one request, and its sibling orders (one checkout
split over carriers shares the `reference`, §12). What rarely changes — order states,
taxes, countries, currencies, carriers — is read once per poll (`Lookups`, cleared when a
poll starts).
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from . import records
from .client import PrestashopClient
from .mapping import OrderBundle, rates_of
from .orders import Fetched, fingerprint
from .webservice import MappingError, shop_moment

CUSTOMER_FIELDS = "[id,email,firstname,lastname,company]"


class Lookups:
    """The shop's states, taxes, countries, currencies and carriers, read once per poll.
    Safe to share between orders read at the same time (a race costs a request, no more)."""

    def __init__(self, client: PrestashopClient) -> None:
        self.client = client
        self.clear()

    def clear(self) -> None:
        self._states: dict[int, records.State] | None = None
        self._taxes: dict[int, Decimal] = {}
        self._countries: dict[int, str] = {}
        self._currencies: dict[int, str] = {}
        self._carriers: dict[int, str | None] = {}
        self._rates: frozenset[Decimal] | None = None

    async def states(self, refresh: bool = False) -> dict[int, records.State]:
        if self._states is None or refresh:
            found = await self.client.all("order_states", sort="[id_ASC]")
            self._states = {s.id: s for s in map(records.state, found)}
        return self._states

    async def state(self, state_id: int) -> records.State | None:
        """A state added since the poll started is read again once."""
        states = await self.states()
        if state_id not in states:
            states = await self.states(refresh=True)
        return states.get(state_id)

    async def tax_rate(self, tax_id: int) -> Decimal:
        if tax_id not in self._taxes:
            found = records.required(await self.client.get("taxes", tax_id), f"tax {tax_id}")
            self._taxes[tax_id] = records.tax_rate(found)
        return self._taxes[tax_id]

    async def country(self, country_id: int) -> str:
        if country_id not in self._countries:
            found = await self.client.get("countries", country_id)
            what = f"country {country_id}"
            self._countries[country_id] = records.iso_code(records.required(found, what), what)
        return self._countries[country_id]

    async def currency(self, currency_id: int) -> str:
        if currency_id not in self._currencies:
            found = await self.client.get("currencies", currency_id)
            what = f"currency {currency_id}"
            self._currencies[currency_id] = records.iso_code(records.required(found, what), what)
        return self._currencies[currency_id]

    async def carrier(self, carrier_id: int) -> str | None:
        """The carrier's name (None for no carrier, or one the shop removed)."""
        if carrier_id not in self._carriers:
            found = await self.client.get("carriers", carrier_id) if carrier_id else None
            self._carriers[carrier_id] = records.text(found.get("name")) if found else None
        return self._carriers[carrier_id]

    async def shop_rates(self) -> frozenset[Decimal]:
        if self._rates is None:
            taxes = await self.client.all("taxes", display="[id,rate]")
            self._rates = frozenset(records.tax_rate(t) for t in taxes)
        return self._rates


async def read_fetched(client: PrestashopClient, lookups: Lookups, order_id: int) -> Fetched | None:
    found = await client.get("orders", order_id)
    if found is None:
        return None
    order = records.order(found)
    slips = await client.all("order_slip", filters={"id_order": f"[{order.id}]"}, sort="[id_ASC]")
    return Fetched(
        order=order,
        slips=tuple(map(records.slip, slips)),
        state=await lookups.state(order.current_state),
        fingerprint=fingerprint(found, slips),
    )


async def read_bundle(
    client: PrestashopClient, lookups: Lookups, fetched: Fetched, zone: ZoneInfo
) -> OrderBundle:
    order = fetched.order
    if fetched.state is None:
        raise MappingError(f"order state {order.current_state} does not exist in the shop")
    by_order = {"id_order": f"[{order.id}]"}
    details = tuple(
        map(records.detail, await client.all("order_details", filters=by_order, sort="[id_ASC]"))
    )
    tax_ids = {t for d in details for t in d.tax_ids}
    tax_rates = {t: await lookups.tax_rate(t) for t in sorted(tax_ids)}
    rules = await client.all("order_cart_rules", filters=by_order, sort="[id_ASC]")
    customer = await client.get("customers", order.id_customer, display=CUSTOMER_FIELDS)
    wanted = sorted({order.id_address_invoice, order.id_address_delivery})
    addresses = {
        a.id: a
        for a in map(
            records.address,
            await client.all("addresses", filters={"id": "[" + "|".join(map(str, wanted)) + "]"}),
        )
    }
    for address_id in wanted:
        if address_id not in addresses:
            raise MappingError(f"address {address_id} does not exist in the shop")
    countries = {a.id_country: await lookups.country(a.id_country) for a in addresses.values()}
    wrapping = order.total_wrapping_tax_incl != 0 or order.total_wrapping_tax_excl != 0
    return OrderBundle(
        order=order,
        state=fetched.state,
        details=details,
        line_rates=rates_of(details, tax_rates),
        cart_rules=tuple(r for r in map(records.cart_rule, rules) if r is not None),
        slips=fetched.slips,
        customer=records.customer(records.required(customer, f"customer {order.id_customer}")),
        invoice_address=addresses[order.id_address_invoice],
        delivery_address=addresses[order.id_address_delivery],
        countries=countries,
        currency=await lookups.currency(order.id_currency),
        carrier_name=await lookups.carrier(order.id_carrier),
        shop_rates=await lookups.shop_rates() if wrapping else frozenset(),
        order_number=await order_number(client, order),
        placed_at=shop_moment(order.date_add, zone, "date_add"),
    )


async def order_number(client: PrestashopClient, order: records.Order) -> str:
    """The order's `reference` (what the customer sees); orders of one checkout split over
    carriers share it, so those get their id added: ledgers find bookings by this number."""
    if not order.reference:
        return str(order.id)
    siblings = await client.all(
        "orders", filters={"reference": f"[{order.reference}]"}, display="[id]"
    )
    return order.reference if len(siblings) <= 1 else f"{order.reference}-{order.id}"
