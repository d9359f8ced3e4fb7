"""Notices: where the shop's VAT split contradicts vat-nl-eu.md §6, but was booked as charged.

§6: shipping and payment costs follow the goods; with mixed rates they are split in
proportion to the goods' consideration per rate. A shop that charged one rate on them
invoiced the customer that VAT, and VAT on an invoice is owed as stated, so Koppel books
it as charged and tells the merchant. A notice appears exactly when the §6 split would
book the charge differently: at a rate none of the goods has, or at one rate while the
goods have several (with a share each).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from koppel_contracts import Language

from .allocation import HUNDRED, apportion, cents_to_decimal, exact, round_half_up
from .buckets import Allocation, RatedCharge
from .formatting import money_text, rate_text
from .model import AmountBasis, BookingLineKind, ChargeShare, NoticeCode, PlanNotice

_LABELS: dict[BookingLineKind, tuple[str, str]] = {
    BookingLineKind.SHIPPING: ("verzendkosten", "shipping costs"),
    BookingLineKind.PAYMENT_COSTS: ("betaalkosten", "payment costs"),
}


def charge_notices(order_number: str, alloc: Allocation, basis: AmountBasis) -> list[PlanNotice]:
    """A notice per charge booked at its own rate where §6 would have split it otherwise."""
    notices: list[PlanNotice] = []
    goods_rates = alloc.resplit_rates()
    for rated in alloc.rated_charges:
        charge = rated.charge
        if charge.amount_incl_vat == 0 and charge.amount_excl_vat == 0:
            continue  # nothing was charged
        if rated.rate not in goods_rates:
            code = NoticeCode.CHARGE_RATE_NOT_ON_GOODS
        elif len(goods_rates) > 1:
            code = NoticeCode.CHARGE_RATE_ON_MIXED_GOODS
        else:
            continue  # the one goods rate: exactly what §6 says
        shares = _resplit(rated, alloc, goods_rates, basis)
        texts = [
            _text(order_number, code, rated, goods_rates, shares, basis, language)
            for language in (Language.NL, Language.EN)
        ]
        notices.append(
            PlanNotice(
                code=code,
                kind=rated.kind,
                description=charge.description,
                vat_rate=rated.rate,
                goods_rates=list(goods_rates),
                amount_excl_vat=charge.amount_excl_vat,
                vat_amount=charge.amount_incl_vat - charge.amount_excl_vat,
                amount_incl_vat=charge.amount_incl_vat,
                resplit=shares,
                amount_basis=basis,
                text_nl=texts[0],
                text_en=texts[1],
            )
        )
    return notices


def _resplit(
    rated: RatedCharge, alloc: Allocation, rates: list[Decimal], basis: AmountBasis
) -> list[ChargeShare]:
    """The charge split over the goods rates as §6 (ChargeVat.RESPLIT) would book it."""
    incl = basis is AmountBasis.INCL_VAT
    amount = exact(rated.charge.amount_incl_vat if incl else rated.charge.amount_excl_vat)
    weights = [alloc.cost_weights[rate] for rate in rates]
    total = sum(weights, Fraction(0))
    cents = apportion(
        [amount * HUNDRED * w / total for w in weights], round_half_up(amount * HUNDRED)
    )
    shares = []
    for rate, share in zip(rates, cents, strict=True):
        r = exact(rate)
        if incl:
            vat = share - round_half_up(share * HUNDRED / (HUNDRED + r))
        else:
            vat = round_half_up(share * r / HUNDRED)
        shares.append(ChargeShare(rate, cents_to_decimal(share), cents_to_decimal(vat)))
    return shares


def _text(
    order_number: str,
    code: NoticeCode,
    rated: RatedCharge,
    goods_rates: list[Decimal],
    shares: list[ChargeShare],
    basis: AmountBasis,
    language: Language,
) -> str:
    nl = language is Language.NL
    label = _LABELS[rated.kind][0 if nl else 1]
    rate = rate_text(rated.rate, language)
    charge = rated.charge
    amount = money_text(charge.amount_incl_vat, language)
    vat = money_text(charge.amount_incl_vat - charge.amount_excl_vat, language)
    rates = _enumerate([rate_text(r, language) for r in goods_rates], language)
    side = ("incl." if basis is AmountBasis.INCL_VAT else "excl.") + (" btw" if nl else " VAT")
    split = _enumerate(
        [
            f"{money_text(s.amount, language)} {'tegen' if nl else 'at'} "
            f"{rate_text(s.vat_rate, language)}"
            for s in shares
        ],
        language,
    )
    if nl:
        did = (
            f"Bestelling {order_number}: de webshop rekende {rate} btw over de {label}"
            f" ({amount} incl. {vat} btw), "
            + (
                f"terwijl de artikelen verschillende btw-tarieven hebben ({rates})."
                if code is NoticeCode.CHARGE_RATE_ON_MIXED_GOODS
                else f"maar geen van de artikelen heeft dat tarief (artikelen: {rates})."
            )
        )
        return (
            f"{did} Volgens de btw-regels volgen {label} de btw van de artikelen, naar"
            f" verhouding van de artikelen per tarief: {split} ({side}). Koppel heeft geboekt"
            " wat de klant gefactureerd kreeg, zodat je btw-aangifte klopt met je facturen."
            " Is de factuur uit je boekhouding de factuur die de klant krijgt, zet dan in de"
            f" koppeling de optie charge_vat op resplit: Koppel verdeelt de {label} dan over"
            " de tarieven van de artikelen."
        )
    did = (
        f"Order {order_number}: the shop charged {rate} VAT on the {label}"
        f" ({amount} incl. {vat} VAT), "
        + (
            f"while the goods in this order have different VAT rates ({rates})."
            if code is NoticeCode.CHARGE_RATE_ON_MIXED_GOODS
            else f"but none of the goods has that rate (goods: {rates})."
        )
    )
    return (
        f"{did} Under the VAT rules, {label} follow the VAT of the goods, in proportion to"
        f" the goods per rate: {split} ({side}). Koppel booked what the customer was"
        " invoiced, so your VAT return matches your invoices. If the invoice from your"
        " ledger is the one the customer gets, set the connection option charge_vat to"
        f" resplit: Koppel then splits the {label} over the goods' rates."
    )


def _enumerate(items: list[str], language: Language) -> str:
    if len(items) <= 1:
        return "".join(items)
    word = " en " if language is Language.NL else " and "
    return ", ".join(items[:-1]) + word + items[-1]
