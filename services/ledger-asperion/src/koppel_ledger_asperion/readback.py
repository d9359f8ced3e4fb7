"""The read-back check of a file ledger: parse the sealed delivery — the bytes as stored in
GridFS, checked against the seal's SHA-256 — and compare each document's total and VAT
per rate with what the order booked (the figures stored with the document at create).

Every document was already read back and checked when it was made (the runtime's check);
this check proves the file the merchant receives says the same. A difference is published
as a `mismatch` check event for that order (the notifier mails the merchant); matches are
only counted on the delivery, since the order's own check already reported them.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from koppel_contracts import (
    CheckEvent,
    CheckOutcome,
    LedgerRef,
    OrderSummary,
    RateAmount,
    SourceSystem,
    make_event_id,
)
from koppel_ubl import read_totals

from .archive import Delivery
from .deliveries import entry_name
from .documents import StoredDocument


@dataclass(frozen=True)
class DocumentDifference:
    document: StoredDocument
    booked_total: Decimal | None  # None: not in the file at all
    booked_vat: dict[Decimal, Decimal]
    details: list[str]


@dataclass
class DeliveryCheck:
    matched: int = 0
    differences: list[DocumentDifference] = field(default_factory=list)

    def summary(self, at: datetime) -> dict[str, object]:
        return {
            "checked_at": at,
            "matched": self.matched,
            "mismatched": [d.document.number for d in self.differences],
        }


def check_delivery(
    delivery: Delivery, data: bytes, documents: list[StoredDocument], tolerance: Decimal
) -> DeliveryCheck:
    """Compare the ZIP's documents with the stored expectations, document by document."""
    result = DeliveryCheck()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        for document in documents:
            name = entry_name(document)
            if name not in names:
                result.differences.append(
                    DocumentDifference(document, None, {}, [f"{name} ontbreekt / is missing"])
                )
                continue
            back = read_totals(archive.read(name))
            sign = Decimal(-1) if document.credit else Decimal(1)
            total = back.totals.tax_inclusive * sign
            vat: dict[Decimal, Decimal] = {}
            for item in back.vat:
                vat[item.vat.rate] = vat.get(item.vat.rate, Decimal(0)) + item.tax_amount * sign
            details = []
            if abs(total - document.expected_total) > tolerance:
                details.append(f"totaal/total {total} ≠ {document.expected_total}")
            for rate in sorted(set(vat) | set(document.expected_vat)):
                booked = vat.get(rate, Decimal(0))
                expected = document.expected_vat.get(rate, Decimal(0))
                if abs(booked - expected) > tolerance:
                    details.append(f"btw/VAT {rate}%: {booked} ≠ {expected}")
            if back.number != document.number:
                details.append(f"nummer/number {back.number} ≠ {document.number}")
            if details:
                result.differences.append(DocumentDifference(document, total, vat, details))
            else:
                result.matched += 1
    return result


def mismatch_event(
    difference: DocumentDifference,
    delivery: Delivery,
    *,
    component: str,
    tolerance: Decimal,
    at: datetime,
) -> CheckEvent:
    document = difference.document
    order_ref = document.order_id[len(delivery.connection_id) + 1 :]
    booked_total = difference.booked_total if difference.booked_total is not None else Decimal(0)
    back = read_totals(document.xml)
    return CheckEvent(
        event_id=make_event_id(component, "delivery-check", delivery.id, document.id),
        occurred_at=at,
        connection_id=delivery.connection_id,
        source_system=SourceSystem.ASPERION,
        correlation_id=document.order_id,
        order_ref=order_ref,
        order_revision=document.revision,
        outcome=CheckOutcome.MISMATCH,
        order=OrderSummary(
            order_number=document.reference,
            placed_on=back.issue_date,
            total_incl_vat=abs(document.expected_total),
            currency=back.currency,
            customer_name=back.buyer.legal_name,
        ),
        ledger_ref=LedgerRef(
            booking_id=f"{document.kind}:{document.number}",
            document_number=document.number,
            journal=delivery.name,
        ),
        expected_total_incl_vat=document.expected_total,
        booked_total_incl_vat=booked_total,
        difference=booked_total - document.expected_total,
        tolerance=tolerance,
        details=[f"levering/delivery {delivery.name}: {d}" for d in difference.details],
        expected_vat=[RateAmount(vat_rate=r, amount=a) for r, a in document.expected_vat.items()],
        booked_vat=[RateAmount(vat_rate=r, amount=a) for r, a in difference.booked_vat.items()],
    )
