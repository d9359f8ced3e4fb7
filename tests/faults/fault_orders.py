"""What the run orders, from its seed: baskets whose VAT the shop and the ledger can agree
on to the cent, a few orders the ledger must refuse (they make the alerts), and a few
that are cancelled once booked.

Octopus computes an invoice line's VAT from its net amount (`round(net × rate)`), a shop
from the gross (CCV: `round(gross × rate / (100 + rate))`; PrestaShop rounds each item's
net price first); for some amounts those differ by a cent, which the ledger reports (within
the connection's tolerance) but cannot avoid. The catalogue keeps only the lines on which
all agree, so a difference in the books is a fault of Koppel, not of rounding. One line
per VAT rate, so per line is per rate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# A VAT rate no demo connection maps to a ledger account: the ledger refuses the order
# (`failed`, one persistent-failure alert, one e-mail) instead of booking it.
UNMAPPED_RATE = Decimal(6)

PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("Koffiebonen 1kg", "24.95", 9),
    ("Espresso 500g", "13.50", 9),
    ("Thee 100g", "6.49", 9),
    ("Chocoladereep", "3.25", 9),
    ("Koffiemok", "12.10", 21),
    ("Handmolen", "49.95", 21),
    ("Theepot", "29.00", 21),
    ("Bonbondoos", "18.15", 21),
)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_in(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT in an amount including VAT, as the shops charge it."""
    return cents(gross * rate / (100 + rate))


def agrees(unit_price: Decimal, quantity: int, rate: Decimal) -> bool:
    """Shops and ledger compute the same VAT for this line (see the module's doc): CCV takes
    the VAT out of the line's gross amount, PrestaShop rounds each item's net price first
    (its default `round_type`); the ledger books the net and Octopus adds VAT to it."""
    gross = unit_price * quantity
    per_line = vat_in(gross, rate)
    per_item = gross - cents(unit_price * 100 / (100 + rate)) * quantity
    return all(cents((gross - vat) * rate / 100) == vat for vat in (per_line, per_item))


@dataclass(frozen=True)
class Line:
    name: str
    unit_price: Decimal  # incl. VAT
    quantity: int
    rate: Decimal

    @property
    def gross(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class PlannedOrder:
    index: int
    pair: str
    lines: tuple[Line, ...]
    refused: bool  # carries the unmapped rate: must fail once, with one alert mailed once
    cancel: bool  # cancelled in the shop once booked: must be credited once
    customer: int

    @property
    def goods_vat(self) -> dict[Decimal, Decimal]:
        vat: dict[Decimal, Decimal] = {}
        for line in self.lines:
            vat[line.rate] = vat.get(line.rate, Decimal(0)) + vat_in(line.gross, line.rate)
        return vat


def _choices() -> dict[int, list[tuple[str, Decimal, int]]]:
    """Per rate: (product, unit price, quantity) whose line amount both sides agree on."""
    found: dict[int, list[tuple[str, Decimal, int]]] = {}
    for name, price, rate in PRODUCTS:
        for quantity in range(1, 6):
            if agrees(Decimal(price), quantity, Decimal(rate)):
                found.setdefault(rate, []).append((name, Decimal(price), quantity))
    return found


CHOICES = _choices()


def plan_orders(
    n: int,
    pairs: list[str],
    rng: random.Random,
    *,
    refused_share: float = 0.01,
    cancel_share: float = 0.03,
) -> list[PlannedOrder]:
    """N orders spread evenly over the pairs, in a seeded random order."""
    planned = []
    for i in range(n):
        lines = []
        rates = rng.choice([(9,), (21,), (9, 21), (9, 21)])
        for rate in rates:
            name, price, quantity = rng.choice(CHOICES[rate])
            lines.append(Line(name, price, quantity, Decimal(rate)))
        refused = rng.random() < refused_share
        if refused:
            lines.append(Line("Boek", Decimal("19.95"), 1, UNMAPPED_RATE))
        cancel = not refused and rng.random() < cancel_share
        planned.append(
            PlannedOrder(i, pairs[i % len(pairs)], tuple(lines), refused, cancel, i % 50)
        )
    return planned
