"""What was booked: the lines and totals of a document as the plan made them (a later
credit note mirrors them), kept with the order's record (`records.LedgerDoc.plan`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class RecordedLine:
    kind: str
    description: str
    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


_AMOUNTS = ("vat_rate", "amount_excl_vat", "vat_amount", "amount_incl_vat")


@dataclass(frozen=True)
class RecordedPlan:
    """The lines and totals of a booked document (a later credit note mirrors them)."""

    lines: tuple[RecordedLine, ...]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    notices: tuple[tuple[str, str], ...] = ()  # (code, text in the merchant's language)
    treatment: str = "domestic"  # domestic | oss | icp | export (koppel_contracts.VatTreatment)
    country_code: str = ""  # where the goods went (the VAT country for OSS)

    @classmethod
    def of(cls, plan: Any, language: Any = None) -> RecordedPlan:
        """From a `koppel_bookkeeping.BookingPlan` (or anything shaped like one); notices in
        `language` (the merchant's; the plan's default when None)."""
        return cls(
            lines=tuple(
                RecordedLine(
                    kind=str(getattr(ln.kind, "value", ln.kind)),
                    description=ln.description,
                    vat_rate=ln.vat_rate,
                    ledger_account=ln.ledger_account,
                    vat_code=ln.vat_code,
                    amount_excl_vat=ln.amount_excl_vat,
                    vat_amount=ln.vat_amount,
                    amount_incl_vat=ln.amount_incl_vat,
                )
                for ln in plan.lines
            ),
            total_excl_vat=plan.total_excl_vat,
            total_vat=plan.total_vat,
            total_incl_vat=plan.total_incl_vat,
            notices=tuple(
                (str(getattr(n, "code", n)), _notice_text(n, language))
                for n in getattr(plan, "notices", ())
            ),
            treatment=str(getattr(getattr(plan, "treatment", None), "value", "domestic")),
            country_code=str(getattr(plan, "country_code", "") or ""),
        )

    def notice_texts(self) -> tuple[tuple[str, str], ...]:
        """(code, text) of each notice, as recorded in the merchant's language."""
        return self.notices

    def bookable_lines(self) -> list[RecordedLine]:
        """Lines worth booking: ledgers (and accountants) dislike zero lines."""
        return [ln for ln in self.lines if ln.amount_excl_vat != 0 or ln.vat_amount != 0]

    def vat_per_rate(self) -> dict[Decimal, Decimal]:
        totals: dict[Decimal, Decimal] = {}
        for line in self.lines:
            totals[line.vat_rate] = totals.get(line.vat_rate, Decimal(0)) + line.vat_amount
        return totals

    def to_json(self) -> str:
        return json.dumps(
            {
                "lines": [{k: str(v) for k, v in vars(ln).items()} for ln in self.lines],
                "total_excl_vat": str(self.total_excl_vat),
                "total_vat": str(self.total_vat),
                "total_incl_vat": str(self.total_incl_vat),
                "notices": [list(n) for n in self.notices],
                "treatment": self.treatment,
                "country_code": self.country_code,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RecordedPlan:
        data = json.loads(text)
        return cls(
            lines=tuple(
                RecordedLine(**{k: Decimal(v) if k in _AMOUNTS else v for k, v in ln.items()})
                for ln in data["lines"]
            ),
            total_excl_vat=Decimal(data["total_excl_vat"]),
            total_vat=Decimal(data["total_vat"]),
            total_incl_vat=Decimal(data["total_incl_vat"]),
            notices=tuple((str(c), str(t)) for c, t in data.get("notices") or ()),
            treatment=str(data.get("treatment") or "domestic"),
            country_code=str(data.get("country_code") or ""),
        )


def _notice_text(notice: Any, language: Any) -> str:
    # A bookkeeping PlanNotice says itself in either language (`text(language)`); anything
    # else that carries a plain `text` (or is a string) is taken as it is.
    text = getattr(notice, "text", notice)
    if callable(text):
        return str(text(language) if language is not None else text())
    return str(text)
