"""Everything one sandbox shop knows: its configuration, webservice keys, the
install data (languages, order states, countries, …), customers and orders,
plus the test plumbing (clock, injected faults, the optional hosting limiter).

Order operations (create, edit, state changes, refunds) live in `orders.py`.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from koppel_sandbox_kit import FaultInjector, FixedWindowLimiter

from . import defaults
from .model import (
    Address,
    ApiKey,
    Carrier,
    Country,
    Currency,
    Customer,
    History,
    Invoice,
    Language,
    Order,
    OrderState,
    Payment,
    Slip,
    Tax,
)
from .resources import MODELLED

READ_METHODS = frozenset({"GET", "HEAD"})
ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
KEY_ALPHABET = string.ascii_uppercase + string.digits


class NotFound(LookupError):
    pass


@dataclass
class Config:
    """Shop settings a test may change (`PATCH /_control/config`)."""

    webservice_enabled: bool = True  # PS_WEBSERVICE
    round_type: int = 1  # PS_ROUND_TYPE for new orders: 1 item, 2 line, 3 total
    api_style: Literal["8", "1.7"] = "8"  # 8.x fields, ints as JSON numbers; 1.7: all strings
    ps_version: str = "8.1.7"
    shop_name: str = "Koppel Demowinkel"
    timezone: str = "Europe/Amsterdam"
    refund_touches_order: bool = False  # does a credit slip move the order's date_upd?


@dataclass
class InjectedError:
    """A PrestaShop-format error (in XML or JSON, as requested) for matching API calls."""

    status: int = 500
    code: int = 46
    message: str = "Unable to save resource"
    path: str = ".*"
    times: int = 1


@dataclass
class Counters:
    requests: int = 0
    auth_refused: int = 0
    rate_limited: int = 0

    def as_json(self) -> dict[str, int]:
        return dict(vars(self))


@dataclass
class HostLimit:
    limit: int
    window_seconds: float


def generate_key(rng: random.Random) -> str:
    return "".join(rng.choice(KEY_ALPHABET) for _ in range(32))


class PrestaShopState:
    def __init__(
        self,
        *,
        seed: int | None = None,
        baseline: Callable[[PrestaShopState], None] | None = None,
    ) -> None:
        self.baseline = baseline
        self.seed = seed
        self.faults = FaultInjector()
        self.base_url = "http://localhost"
        self.reset()

    # --- lifecycle -----------------------------------------------------------

    def reset(self) -> None:
        """Back to a fresh install (then the baseline, e.g. the demo shop's data)."""
        self.rng = random.Random(self.seed)
        self.config = Config()
        self.languages: dict[int, Language] = defaults.languages()
        self.order_states: dict[int, OrderState] = defaults.order_states()
        self.countries: dict[int, Country] = defaults.countries()
        self.currencies: dict[int, Currency] = defaults.currencies()
        self.taxes: dict[int, Tax] = defaults.taxes()
        self.carriers: dict[int, Carrier] = defaults.carriers()
        self.customers: dict[int, Customer] = {}
        self.addresses: dict[int, Address] = {}
        self.orders: dict[int, Order] = {}
        self.histories: dict[int, History] = {}
        self.payments: dict[int, Payment] = {}
        self.invoices: dict[int, Invoice] = {}
        self.slips: dict[int, Slip] = {}
        # Read for every order a request shows: looked up, never scanned (`add_payment`,
        # `add_invoice` keep them).
        self._payment_of_reference: dict[str, Payment] = {}
        self._invoice_of_order: dict[int, Invoice] = {}
        self.keys: dict[str, ApiKey] = {}
        self.counters = Counters()
        self.errors: list[InjectedError] = []
        self.host_limit: HostLimit | None = None
        self.limiter: FixedWindowLimiter | None = None
        self._fixed_now: datetime | None = None
        self._ids: dict[str, int] = {}
        self.faults.clear()
        if self.baseline is not None:
            self.baseline(self)

    def next_id(self, kind: str, start: int = 1) -> int:
        value = self._ids.get(kind, start)
        self._ids[kind] = value + 1
        return value

    # --- clock (shop-local, no zone, as PrestaShop stores datetimes) ---------

    def now(self) -> datetime:
        if self._fixed_now is not None:
            return self._fixed_now
        return datetime.now(ZoneInfo(self.config.timezone)).replace(tzinfo=None, microsecond=0)

    def set_clock(self, moment: datetime | None) -> None:
        self._fixed_now = moment.replace(microsecond=0) if moment else None

    def advance_clock(self, seconds: float) -> datetime:
        self._fixed_now = self.now() + timedelta(seconds=seconds)
        return self._fixed_now

    # --- webservice keys ------------------------------------------------------

    def create_key(
        self,
        permissions: dict[str, Any] | str = "read",
        *,
        key: str | None = None,
        active: bool = True,
        description: str = "",
    ) -> ApiKey:
        """`permissions`: "read" (GET+HEAD on every modelled resource), "all", or
        {resource: [methods]}. A key of another length than 32 is stored as given,
        so tests can show what PrestaShop says about it (code 18)."""
        if permissions == "read":
            perms = {name: set(READ_METHODS) for name in MODELLED}
        elif permissions == "all":
            perms = {name: set(ALL_METHODS) for name in MODELLED}
        elif isinstance(permissions, dict):
            perms = {
                str(res): {str(m).upper() for m in methods} for res, methods in permissions.items()
            }
        else:
            raise ValueError("permissions must be 'read', 'all' or {resource: [methods]}")
        api_key = ApiKey(key or generate_key(self.rng), perms, active, description)
        self.keys[api_key.key] = api_key
        return api_key

    def key(self, key: str) -> ApiKey:
        found = self.keys.get(key)
        if found is None:
            raise NotFound("unknown webservice key")
        return found

    # --- host limiter and injected PrestaShop errors --------------------------

    def set_host_limit(self, limit: int | None, window_seconds: float = 60.0) -> None:
        if limit is None:
            self.host_limit, self.limiter = None, None
            return
        self.host_limit = HostLimit(limit, window_seconds)
        self.limiter = FixedWindowLimiter(limit, window_seconds)

    def take_error(self, path: str) -> InjectedError | None:
        for rule in self.errors:
            if re.search(rule.path, path):
                rule.times -= 1
                if rule.times <= 0:
                    self.errors.remove(rule)
                return rule
        return None

    # --- payments and invoices (one per order reference, one per order) ------

    def add_payment(self, payment: Payment) -> None:
        self.payments[payment.id] = payment
        self._payment_of_reference.setdefault(payment.order_reference, payment)

    def add_invoice(self, invoice: Invoice) -> None:
        self.invoices[invoice.id] = invoice
        self._invoice_of_order.setdefault(invoice.id_order, invoice)

    def is_paid(self, reference: str) -> bool:
        """A payment is recorded for the order reference (split-cart siblings share it)."""
        return reference in self._payment_of_reference

    def invoice_of(self, order_id: int) -> Invoice | None:
        return self._invoice_of_order.get(order_id)

    # --- lookups --------------------------------------------------------------

    def order(self, order_id: int) -> Order:
        found = self.orders.get(order_id)
        if found is None:
            raise NotFound(f"order {order_id} does not exist")
        return found

    def order_state(self, state_id: int) -> OrderState:
        found = self.order_states.get(state_id)
        if found is None:
            raise NotFound(f"order state {state_id} does not exist")
        return found

    def tax_for_rate(self, rate: Decimal) -> Tax | None:
        """The shop's tax at `rate`, created (with its own tax rules group) when new."""
        if rate == 0:
            return None
        for tax in self.taxes.values():
            if tax.rate == rate:
                return tax
        tax_id = max(self.taxes, default=0) + 1
        group = max((t.tax_rules_group for t in self.taxes.values()), default=0) + 1
        name = f"BTW {rate.normalize():f}%"
        tax = Tax(tax_id, rate, {lang: name for lang in self.languages}, group)
        self.taxes[tax_id] = tax
        return tax

    def currency_for(self, spec: Any) -> Currency:
        """A currency by ISO code, or {iso_code, conversion_rate[, name, symbol]}
        (created, or its rate updated)."""
        if spec is None:
            return self.currencies[1]
        data = {"iso_code": spec} if isinstance(spec, str) else dict(spec)
        iso = str(data["iso_code"]).upper()
        current = next((c for c in self.currencies.values() if c.iso_code == iso), None)
        if current is None:
            current = Currency(
                max(self.currencies) + 1,
                iso,
                str(data.get("name", iso)),
                str(data.get("symbol", iso)),
                str(data.get("numeric_iso_code", "")),
            )
            self.currencies[current.id] = current
        if "conversion_rate" in data:
            current.conversion_rate = Decimal(str(data["conversion_rate"]))
        return current

    def carrier_for(self, spec: Any) -> Carrier:
        if spec is None:
            return self.carriers[2]
        for carrier in self.carriers.values():
            if spec in (carrier.id, carrier.name) or str(spec) == str(carrier.id):
                return carrier
        raise NotFound(f"carrier {spec!r} does not exist")

    def country_for(self, iso_or_id: Any) -> Country:
        for country in self.countries.values():
            if (
                iso_or_id in (country.id, country.iso_code)
                or str(iso_or_id).upper() == country.iso_code
            ):
                return country
        raise NotFound(f"country {iso_or_id!r} is not set up in this shop")

    def random_reference(self) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase) for _ in range(9))

    def random_secure_key(self) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(32))
