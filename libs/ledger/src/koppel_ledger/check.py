"""The read-back check: what the ledger has, compared with what was meant — the total, the
VAT per rate and the debtor. Pure; the texts are in the merchant's language, amounts and
rates written the way that language writes them (`€ 1,00` / `€1.00`), because the
dashboard shows them to the merchant as they are."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from koppel_bookkeeping.formatting import money_text, rate_text
from koppel_contracts import CheckOutcome, Language

from .adapter import ReadBack
from .records import LedgerDoc

_TEXTS = {
    "nl": {
        "missing": "het document is bij het teruglezen niet gevonden in {ledger}",
        "total": "het geboekte totaal is {difference} {direction} dan de bestelling "
        "(marge {tolerance})",
        "total_within": "het geboekte totaal is {difference} {direction} dan de bestelling, "
        "binnen de marge van {tolerance}",
        "higher": "hoger",
        "lower": "lager",
        "vat": "btw {rate}: {ledger} {booked}, bestelling {expected}",
        "customer": "de boeking staat op {booked} in plaats van {expected}",
        "relation": "relatie {id}",
    },
    "en": {
        "missing": "the document was not found in {ledger} when read back",
        "total": "the booked total is {difference} {direction} than the order "
        "(tolerance {tolerance})",
        "total_within": "the booked total is {difference} {direction} than the order, "
        "within the tolerance of {tolerance}",
        "higher": "higher",
        "lower": "lower",
        "vat": "VAT {rate}: {ledger} {booked}, order {expected}",
        "customer": "the booking is on {booked} instead of {expected}",
        "relation": "relation {id}",
    },
}


@dataclass(frozen=True)
class CheckResult:
    outcome: CheckOutcome
    booked_total: Decimal
    difference: Decimal
    expected_vat: dict[Decimal, Decimal]
    booked_vat: dict[Decimal, Decimal] | None
    expected_customer: str
    booked_customer: str | None
    details: list[str]

    @property
    def mismatch(self) -> bool:
        return self.outcome == CheckOutcome.MISMATCH


def relation_label(debtor_id: str | None, external_id: str | None, language: Language) -> str:
    ident = debtor_id or (f"ext. {external_id}" if external_id else "-")
    return _TEXTS[language.value]["relation"].format(id=ident)


def _total_text(
    texts: dict[str, str], key: str, difference: Decimal, tolerance: Decimal, language: Language
) -> str:
    return texts[key].format(
        difference=money_text(abs(difference), language),
        direction=texts["higher"] if difference > 0 else texts["lower"],
        tolerance=money_text(tolerance, language),
    )


def compare(
    doc: LedgerDoc,
    found: ReadBack | None,
    *,
    tolerance: Decimal,
    language: Language,
    ledger: str,
) -> CheckResult:
    texts = _TEXTS[language.value]
    expected_vat = doc.expected_vat_per_rate()
    expected_customer = relation_label(doc.debtor.id, doc.debtor.external_id, language)
    if found is None:
        return CheckResult(
            outcome=CheckOutcome.MISMATCH,
            booked_total=Decimal(0),
            difference=-doc.expected_total,
            expected_vat=expected_vat,
            booked_vat=None,
            expected_customer=expected_customer,
            booked_customer=None,
            details=[texts["missing"].format(ledger=ledger)],
        )
    details: list[str] = []
    difference = found.total_incl_vat - doc.expected_total
    mismatch = abs(difference) > tolerance
    if mismatch:
        details.append(_total_text(texts, "total", difference, tolerance, language))
    elif difference:
        details.append(_total_text(texts, "total_within", difference, tolerance, language))
    if found.vat_per_rate is not None:
        for rate in sorted(set(expected_vat) | set(found.vat_per_rate), reverse=True):
            expected = expected_vat.get(rate, Decimal(0))
            booked = found.vat_per_rate.get(rate, Decimal(0))
            if booked != expected:
                mismatch = mismatch or abs(booked - expected) > tolerance
                details.append(
                    texts["vat"].format(
                        rate=rate_text(rate, language),
                        ledger=ledger,
                        booked=money_text(booked, language),
                        expected=money_text(expected, language),
                    )
                )
    booked_customer = relation_label(found.debtor_id, found.debtor_external_id, language)
    # Ids with ids: the labels above are written alike on both sides, but the decision is
    # taken on the identifiers, never on text that may carry a name on one side only.
    if doc.debtor.id is not None:
        same_customer = found.debtor_id == doc.debtor.id
    else:
        same_customer = found.debtor_external_id == doc.debtor.external_id
    if not same_customer:
        mismatch = True
        details.append(texts["customer"].format(booked=booked_customer, expected=expected_customer))
    return CheckResult(
        outcome=CheckOutcome.MISMATCH if mismatch else CheckOutcome.MATCHED,
        booked_total=found.total_incl_vat,
        difference=difference,
        expected_vat=expected_vat,
        booked_vat=found.vat_per_rate,
        expected_customer=expected_customer,
        booked_customer=booked_customer,
        details=details,
    )
