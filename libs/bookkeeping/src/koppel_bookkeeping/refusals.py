"""Why an order cannot be booked, in words a merchant can act on.

A refusal is permanent: retrying the same order gives the same answer, so the
ledger service turns it into a failure event (reason + suggestion) instead of
retrying. Codes are stable API; texts may be improved freely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import Any

from koppel_contracts import Failure, FailureKind, Language, VatTreatment

from .allocation import DECIMAL_CONTEXT
from .formatting import country_name, date_text, money_text, rate_text, treatment_text


class RefusalCode(StrEnum):
    EMPTY_ORDER = "empty_order"
    ICP_WITHOUT_VAT_NUMBER = "icp_without_vat_number"
    ICP_INVALID_VAT_NUMBER = "icp_invalid_vat_number"
    UNKNOWN_VAT_RATE = "unknown_vat_rate"
    UNMAPPED_VAT_RATE = "unmapped_vat_rate"
    DISCOUNT_EXCEEDS_GOODS = "discount_exceeds_goods"
    NEGATIVE_GOODS_AMOUNT = "negative_goods_amount"
    ORDER_TOTALS_MISMATCH = "order_totals_mismatch"
    ORDER_VAT_MISMATCH = "order_vat_mismatch"
    # Configuration errors found by check_vat_codes (the ledger's VAT codes).
    UNKNOWN_VAT_CODE = "unknown_vat_code"
    VAT_CODE_RATE_MISMATCH = "vat_code_rate_mismatch"


class BookingRefused(Exception):
    """An order that must not be booked as it is; `params` name what is involved."""

    def __init__(self, reason_code: str, params: Mapping[str, Any] | None = None) -> None:
        self.reason_code = reason_code
        self.params: dict[str, Any] = dict(params or {})
        # args carry both, so the exception survives pickling and repr shows the cause.
        super().__init__(reason_code, self.params)

    def __str__(self) -> str:
        details = ", ".join(f"{key}={value}" for key, value in self.params.items())
        return f"{self.reason_code} ({details})" if details else self.reason_code


Texts = tuple[str, str]


def refusal_text(error: BookingRefused, language: Language = Language.NL) -> Texts:
    """(reason, suggestion) for the merchant, in Dutch (default) or English."""
    writer = _WRITERS.get(error.reason_code, _unknown)
    with localcontext(DECIMAL_CONTEXT):  # amounts are formatted the same in any context
        return writer(_Params(error.params, error.reason_code), language)


def refusal_failure(error: BookingRefused, language: Language = Language.NL) -> Failure:
    """The contract's permanent Failure for a refusal, ready for a booking event."""
    reason, suggestion = refusal_text(error, language)
    return Failure(
        kind=FailureKind.PERMANENT,
        reason_code=error.reason_code,
        reason=reason,
        suggestion=suggestion,
        persistent=True,
    )


class _Params(dict[str, Any]):
    """Params with safe defaults, so a refusal raised with fewer params still reads well."""

    def __init__(self, params: Mapping[str, Any], code: str) -> None:
        super().__init__(params)
        self.code = code

    def order(self) -> str:
        return str(self.get("order_number", "?"))

    def rate(self, language: Language, key: str = "rate") -> str:
        value = self.get(key)
        if isinstance(value, Decimal):
            return rate_text(value, language)
        return str(value) if value is not None else "?"

    def money(self, key: str, language: Language) -> str:
        value = self.get(key)
        return money_text(value, language) if isinstance(value, Decimal) else str(value)

    def country(self, key: str, language: Language) -> str:
        value = self.get(key)
        return country_name(value, language) if isinstance(value, str) else "?"


def _empty_order(p: _Params, language: Language) -> Texts:
    if language is Language.NL:
        return (
            f"Bestelling {p.order()} heeft niets om te boeken: alle bedragen zijn € 0,00.",
            "Er hoeft niets geboekt te worden. Moet de bestelling toch in de boekhouding,"
            " boek haar dan met de hand.",
        )
    return (
        f"Order {p.order()} has nothing to book: every amount is €0.00.",
        "Nothing needs to be booked. If the order must still appear in your books,"
        " book it by hand.",
    )


def _icp_without_vat_number(p: _Params, language: Language) -> Texts:
    if language is Language.NL:
        return (
            f"Bestelling {p.order()} gaat zonder btw (0%) naar {p.country('country', language)},"
            " maar de klant heeft geen btw-nummer. Een intracommunautaire levering tegen 0%"
            " mag alleen aan een bedrijf met een geldig btw-nummer.",
            "Voeg het btw-nummer van de klant toe in de webshop en boek de bestelling opnieuw."
            " Is de klant geen bedrijf, maak de bestelling dan opnieuw aan met btw.",
        )
    return (
        f"Order {p.order()} ships to {p.country('country', language)} without VAT (0%),"
        " but the customer has no VAT number. An intra-Community supply at 0% is only"
        " allowed to a business with a valid VAT number.",
        "Add the customer's VAT number in the webshop and book the order again."
        " If the customer is not a business, recreate the order with VAT.",
    )


def _icp_invalid_vat_number(p: _Params, language: Language) -> Texts:
    vat = p.get("vat_number", "?")
    if language is Language.NL:
        return (
            f"Bestelling {p.order()} gaat zonder btw (0%) naar {p.country('country', language)},"
            f" maar {vat} is geen btw-nummer uit een ander EU-land dan"
            f" {p.country('seller_country', language)}.",
            "Controleer het btw-nummer van de klant in VIES, verbeter het in de webshop en boek"
            " de bestelling opnieuw. Is het nummer niet geldig, maak de bestelling dan opnieuw"
            " aan met btw.",
        )
    return (
        f"Order {p.order()} ships to {p.country('country', language)} without VAT (0%),"
        f" but {vat} is not a VAT number from an EU country other than"
        f" {p.country('seller_country', language)}.",
        "Check the customer's VAT number in VIES, correct it in the webshop and book the order"
        " again. If the number is not valid, recreate the order with VAT.",
    )


def _unknown_vat_rate(p: _Params, language: Language) -> Texts:
    rate = p.rate(language)
    nl = language is Language.NL
    valid = p.get("valid_rates")
    on = p.get("date")
    if valid is None:  # not a percentage at all (negative, 100 % or more)
        reason = (
            f"Bestelling {p.order()} heeft een btw-tarief van {rate}; dat is geen geldig"
            " btw-tarief."
            if nl
            else f"Order {p.order()} has a VAT rate of {rate}, which is not a valid VAT rate."
        )
    else:
        valid_text = ", ".join(rate_text(r, language) for r in sorted(valid))
        when = date_text(on, language) if isinstance(on, date) else "?"
        where = p.country("vat_country", language)
        reason = (
            f"Bestelling {p.order()} heeft een btw-tarief van {rate}, maar dat tarief bestaat"
            f" niet in {where} op {when} (geldig: {valid_text})."
            if nl
            else f"Order {p.order()} has a VAT rate of {rate}, but {where} has no such rate on"
            f" {when} (valid: {valid_text})."
        )
    where_set = _source_text(p, language) or ("de artikelen" if nl else "the products")
    suggestion = (
        f"Zet het juiste btw-tarief bij {where_set} in de webshop en boek de bestelling opnieuw."
        if nl
        else f"Set the right VAT rate on {where_set} in the webshop and book the order again."
    )
    destination = p.get("destination")
    if valid is not None and destination and destination != p.get("vat_country"):
        # An EU consumer booked with Dutch VAT: a foreign rate usually means the shop
        # already charges destination VAT (OSS) while the connection has no OSS accounts.
        dest = p.country("destination", language)
        suggestion += (
            f" Rekent de webshop btw van {dest} via OSS, voeg dan in de instellingen"
            f" grootboekrekeningen voor OSS {dest} toe."
            if nl
            else f" If the shop charges {dest} VAT through OSS, add ledger accounts for"
            f" OSS {dest} in the settings."
        )
    return reason, suggestion


def _unmapped_vat_rate(p: _Params, language: Language) -> Texts:
    treatment = p.get("treatment")
    country = p.get("country")
    label = (
        treatment_text(VatTreatment(treatment), country, language)
        if treatment in set(VatTreatment)
        else str(treatment)
    )
    rate = p.rate(language)
    source = _source_text(p, language)
    if language is Language.NL:
        hint = (
            f" De webshop rekende {rate} btw over {source}; wil je die liever laten volgen"
            " op de tarieven van de artikelen, zet dan de optie charge_vat op resplit."
            if source
            else ""
        )
        return (
            f"Voor {rate} btw ({label}) is geen grootboekrekening ingesteld; bestelling"
            f" {p.order()} heeft die nodig.",
            f"Stel in de koppeling een grootboekrekening en btw-code in voor {rate} btw"
            f" ({label}) en boek de bestelling opnieuw.{hint}",
        )
    hint = (
        f" The shop charged {rate} VAT on {source}; to have them follow the goods' rates"
        " instead, set the option charge_vat to resplit."
        if source
        else ""
    )
    return (
        f"No ledger account is set up for {rate} VAT ({label}); order {p.order()} needs one.",
        f"Set up a ledger account and VAT code for {rate} VAT ({label}) in the connection"
        f" settings and book the order again.{hint}",
    )


def _source_text(p: _Params, language: Language) -> str | None:
    """The charge a rate came from, when no goods have it ("source" param)."""
    labels = {
        "shipping": ("de verzendkosten", "the shipping"),
        "payment_costs": ("de betaalkosten", "the payment costs"),
    }
    names = labels.get(str(p.get("source")))
    if names is None:
        return None
    return names[0] if language is Language.NL else names[1]


def _discount_exceeds_goods(p: _Params, language: Language) -> Texts:
    nl = language is Language.NL
    discount = p.money("discount", language)
    goods = p.money("goods", language)
    if p.get("rate") is None:
        reason = (
            f"In bestelling {p.order()} is de korting ({discount}) groter dan de artikelen"
            f" ({goods})."
            if nl
            else f"In order {p.order()} the discount ({discount}) is larger than the goods"
            f" ({goods})."
        )
    else:
        rate = p.rate(language)
        reason = (
            f"In bestelling {p.order()} is de korting met {rate} btw ({discount}) groter dan de"
            f" artikelen met {rate} btw ({goods})."
            if nl
            else f"In order {p.order()} the discount at {rate} VAT ({discount}) is larger than"
            f" the goods at {rate} VAT ({goods})."
        )
    suggestion = (
        "Controleer het btw-tarief van de korting in de webshop. Betaalt een cadeaubon of"
        " tegoed ook de verzendkosten, boek de bestelling dan met de hand."
        if nl
        else "Check the discount's VAT rate in the webshop. If a gift card or credit also pays"
        " for shipping, book the order by hand."
    )
    return reason, suggestion


def _negative_goods_amount(p: _Params, language: Language) -> Texts:
    rate = p.rate(language)
    amount = p.money("amount", language)
    if language is Language.NL:
        return (
            f"De artikelen met {rate} btw in bestelling {p.order()} zijn samen negatief"
            f" ({amount}).",
            "Een retour of terugbetaling hoort als creditnota in de boekhouding; controleer de"
            " regels in de webshop of boek deze bestelling met de hand.",
        )
    return (
        f"The goods at {rate} VAT in order {p.order()} add up to a negative amount ({amount}).",
        "A return or refund belongs in your books as a credit note; check the order lines in"
        " the webshop or book this order by hand.",
    )


def _order_totals_mismatch(p: _Params, language: Language) -> Texts:
    stated = p.money("stated", language)
    computed = p.money("computed", language)
    if language is Language.NL:
        return (
            f"Het totaal van bestelling {p.order()} ({stated}) klopt niet met de regels,"
            f" kortingen en kosten ({computed}).",
            "Controleer de bestelling in de webshop; blijft het verschil, neem dan contact op"
            " met support.",
        )
    return (
        f"The total of order {p.order()} ({stated}) does not match its lines, discounts and"
        f" costs ({computed}).",
        "Check the order in the webshop; if the difference stays, contact support.",
    )


def _order_vat_mismatch(p: _Params, language: Language) -> Texts:
    stated = p.money("stated", language)
    computed = p.money("computed", language)
    if language is Language.NL:
        return (
            f"Het btw-bedrag van bestelling {p.order()} ({stated}) klopt niet met de btw van"
            f" de regels, kortingen en kosten ({computed}).",
            "Controleer de bestelling in de webshop; blijft het verschil, neem dan contact op"
            " met support.",
        )
    return (
        f"The VAT of order {p.order()} ({stated}) does not match the VAT of its lines,"
        f" discounts and costs ({computed}).",
        "Check the order in the webshop; if the difference stays, contact support.",
    )


def _unknown_vat_code(p: _Params, language: Language) -> Texts:
    code, ledger, rate = p.get("vat_code", "?"), p.get("ledger", "?"), p.rate(language)
    if language is Language.NL:
        return (
            f"Btw-code {code} bestaat niet in {ledger}; Koppel boekt er {rate} btw mee"
            f" (bestelling {p.order()}).",
            f"Kies in de instellingen van de koppeling voor {rate} btw een btw-code die in"
            f" {ledger} bestaat en boek de bestelling opnieuw.",
        )
    return (
        f"VAT code {code} does not exist in {ledger}; Koppel books {rate} VAT with it"
        f" (order {p.order()}).",
        f"In the connection settings, choose a VAT code for {rate} VAT that exists in"
        f" {ledger} and book the order again.",
    )


def _vat_code_rate_mismatch(p: _Params, language: Language) -> Texts:
    code, ledger, rate = p.get("vat_code", "?"), p.get("ledger", "?"), p.rate(language)
    theirs = p.rate(language, "ledger_rate")
    if language is Language.NL:
        return (
            f"Btw-code {code} is in {ledger} {theirs}, maar Koppel boekt er {rate} btw mee"
            f" (bestelling {p.order()}).",
            f"Kies in de instellingen van de koppeling voor {rate} btw een btw-code die in"
            f" {ledger} {rate} is (of zet btw-code {code} in {ledger} op {rate}) en boek de"
            " bestelling opnieuw.",
        )
    return (
        f"VAT code {code} is {theirs} in {ledger}, but Koppel books {rate} VAT with it"
        f" (order {p.order()}).",
        f"In the connection settings, choose a VAT code for {rate} VAT that is {rate} in"
        f" {ledger} (or set VAT code {code} to {rate} in {ledger}) and book the order again.",
    )


def _unknown(p: _Params, language: Language) -> Texts:
    if language is Language.NL:
        return (
            f"Bestelling {p.order()} kan niet automatisch geboekt worden ({p.code}).",
            "Controleer de bestelling in de webshop of boek haar met de hand.",
        )
    return (
        f"Order {p.order()} cannot be booked automatically ({p.code}).",
        "Check the order in the webshop or book it by hand.",
    )


_WRITERS: dict[str, Callable[[_Params, Language], Texts]] = {
    RefusalCode.EMPTY_ORDER: _empty_order,
    RefusalCode.ICP_WITHOUT_VAT_NUMBER: _icp_without_vat_number,
    RefusalCode.ICP_INVALID_VAT_NUMBER: _icp_invalid_vat_number,
    RefusalCode.UNKNOWN_VAT_RATE: _unknown_vat_rate,
    RefusalCode.UNMAPPED_VAT_RATE: _unmapped_vat_rate,
    RefusalCode.DISCOUNT_EXCEEDS_GOODS: _discount_exceeds_goods,
    RefusalCode.NEGATIVE_GOODS_AMOUNT: _negative_goods_amount,
    RefusalCode.ORDER_TOTALS_MISMATCH: _order_totals_mismatch,
    RefusalCode.ORDER_VAT_MISMATCH: _order_vat_mismatch,
    RefusalCode.UNKNOWN_VAT_CODE: _unknown_vat_code,
    RefusalCode.VAT_CODE_RATE_MISMATCH: _vat_code_rate_mismatch,
}
