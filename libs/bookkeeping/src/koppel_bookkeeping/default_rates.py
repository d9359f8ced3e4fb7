"""Notices for order lines whose VAT rate is the connection's default.

Bol.com gives no VAT: its ingest takes a line's rate from the connection's tables (per offer
reference, per EAN) and otherwise from the default rate, and says so on the line
(`OrderLine.vat_rate_source`). The booking is made — the default is the merchant's own
choice — but the merchant is told which products it was used for, so a book at 9 % booked
at a default of 21 % is caught and the product added to the table.
"""

from __future__ import annotations

from decimal import Decimal

from koppel_contracts import CanonicalOrder, Language, OrderLine, VatRateSource

from .formatting import money_text, rate_text
from .model import AmountBasis, BookingLineKind, NoticeCode, PlanNotice


def _product(line: OrderLine) -> str:
    code = line.ean or line.offer_reference or line.sku
    return f"{line.description} ({code})" if code else line.description


def _texts(order_number: str, rate: Decimal, products: list[str], total: Decimal) -> list[str]:
    listed = "; ".join(products)
    nl = (
        f"Bestelling {order_number}: voor {len(products)} product(en) zonder btw-tarief in de "
        f"koppeling is het standaardtarief {rate_text(rate, Language.NL)} gebruikt "
        f"({money_text(total, Language.NL)} incl. btw): {listed}. Klopt dat tarief niet, voeg "
        "het product dan toe aan de btw-tabel van de koppeling (per EAN of eigen referentie)."
    )
    en = (
        f"Order {order_number}: {len(products)} product(s) without a VAT rate in the "
        f"connection were booked at the default rate {rate_text(rate, Language.EN)} "
        f"({money_text(total, Language.EN)} incl. VAT): {listed}. If that rate is wrong, add "
        "the product to the connection's VAT table (by EAN or your own reference)."
    )
    return [nl, en]


def default_rate_notices(order: CanonicalOrder, basis: AmountBasis) -> list[PlanNotice]:
    """One notice per default rate used on the order's lines (none when no line used it)."""
    by_rate: dict[Decimal, list[OrderLine]] = {}
    for line in order.lines:
        if line.vat_rate_source is VatRateSource.DEFAULT:
            by_rate.setdefault(line.vat_rate, []).append(line)
    notices = []
    for rate, lines in sorted(by_rate.items()):
        excl = sum((ln.total_excl_vat for ln in lines), Decimal(0))
        incl = sum((ln.total_incl_vat for ln in lines), Decimal(0))
        nl, en = _texts(order.order_number, rate, [_product(ln) for ln in lines], incl)
        notices.append(
            PlanNotice(
                code=NoticeCode.DEFAULT_VAT_RATE,
                kind=BookingLineKind.GOODS,
                description="; ".join(_product(ln) for ln in lines),
                vat_rate=rate,
                goods_rates=[],
                amount_excl_vat=excl,
                vat_amount=incl - excl,
                amount_incl_vat=incl,
                resplit=[],
                amount_basis=basis,
                text_nl=nl,
                text_en=en,
            )
        )
    return notices
