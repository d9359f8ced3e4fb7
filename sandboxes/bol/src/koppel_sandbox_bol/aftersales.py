"""After the sale: returns come in and are handled, business buyers ask for invoices
and the seller uploads them. A mixin of `Account`, kept apart to keep each file
about one part of a retailer's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .model import (
    InvoiceRequest,
    Order,
    OrderItem,
    ProcessingResult,
    ProcessStatus,
    Return,
    ReturnItem,
    Shipment,
    UploadedInvoice,
)

if TYPE_CHECKING:
    from .state import BolState


class Refused(ValueError):
    """A control request that cannot happen (shipping more than is open, …)."""


@dataclass
class Upload:
    filename: str
    content_type: str
    kind: str
    data: bytes


class AfterSales:
    state: BolState
    returns: dict[str, Return]
    invoice_requests: dict[str, InvoiceRequest]
    invoices: dict[str, list[UploadedInvoice]]

    def now(self) -> datetime:
        raise NotImplementedError

    def _id(self, kind: str) -> str:
        raise NotImplementedError

    def find_item(self, order_item_id: str) -> tuple[Order, OrderItem] | None:
        raise NotImplementedError

    def shipment(self, shipment_id: str) -> Shipment:
        raise NotImplementedError

    def return_item(self, rma_id: str) -> ReturnItem | None:
        raise NotImplementedError

    def _process(
        self, entity_id: str, event_type: str, description: str, error: str | None = None
    ) -> ProcessStatus:
        raise NotImplementedError

    # --- returns ------------------------------------------------------------------

    def create_return(
        self,
        order_item_id: str,
        quantity: int = 1,
        *,
        main_reason: str = "Niet naar verwachting",
        detailed_reason: str = "Product voldoet niet aan de verwachting",
        comments: str = "",
        track_and_trace: str | None = None,
        handling_result: str | None = None,
    ) -> Return:
        """A customer registers a return of shipped units."""
        found = self.find_item(order_item_id)
        if found is None:
            raise Refused(f"no order item {order_item_id}")
        order, item = found
        returned = sum(
            ri.expected_quantity for r in self.returns.values() for ri in r.items if ri.item is item
        )
        if not 0 < quantity <= item.quantity_shipped - returned:
            raise Refused(
                f"item {order_item_id}: {quantity} to return, "
                f"{item.quantity_shipped - returned} shipped and not yet returned"
            )
        now = self.now()
        ret = Return(
            return_id=self._id("return"),
            registered_at=now,
            method=item.method,
            items=[
                ReturnItem(
                    rma_id=self._id("rma"),
                    order=order,
                    item=item,
                    expected_quantity=quantity,
                    main_reason=main_reason,
                    detailed_reason=detailed_reason,
                    comments=comments,
                    track_and_trace=track_and_trace,
                    transporter_name="PostNL" if track_and_trace else None,
                )
            ],
        )
        self.returns[ret.return_id] = ret
        if handling_result is not None:
            self.handle_return(ret.items[0].rma_id, handling_result, quantity)
        return ret

    def handle_return(self, rma_id: str, handling_result: str, quantity: int) -> ReturnItem:
        item = self.return_item(rma_id)
        if item is None:
            raise Refused(f"Return item for rma id {rma_id} not found.")
        if not 0 < quantity <= item.expected_quantity:
            raise Refused(
                f"quantityReturned {quantity} exceeds the expected quantity "
                f"{item.expected_quantity}."
            )
        # Handling again changes the result of an already handled return (spec).
        rejected = handling_result == "RETURN_DOES_NOT_MEET_CONDITIONS"
        item.results = [
            ProcessingResult(
                quantity=quantity,
                processing_result="REJECTED" if rejected else "ACCEPTED",
                handling_result=handling_result,
                at=self.now(),
            )
        ]
        return item

    def handle_return_by_api(
        self, rma_id: str, handling_result: str, quantity: int
    ) -> ProcessStatus:
        description = f"Handle return item with rma id {rma_id}."
        try:
            self.handle_return(rma_id, handling_result, quantity)
        except Refused as refusal:
            return self._process(rma_id, "HANDLE_RETURN_ITEM", description, str(refusal))
        return self._process(rma_id, "HANDLE_RETURN_ITEM", description)

    # --- invoices -----------------------------------------------------------------

    def request_invoice(self, shipment_id: str, *, at: datetime | None = None) -> InvoiceRequest:
        """A business buyer asks for an invoice for a shipment."""
        shipment = self.shipment(shipment_id)
        if shipment_id in self.invoice_requests:
            raise Refused(f"shipment {shipment_id} already has an invoice request")
        at = at or self.now()
        request = InvoiceRequest(shipment, [("INVOICE_REQUESTED", at)])
        if self.accepted_invoice(shipment_id) is not None:
            request.transitions.append(("INVOICE_UPLOADED", at))
        self.invoice_requests[shipment_id] = request
        return request

    def set_invoice_status(self, shipment_id: str, status: str) -> InvoiceRequest:
        """bol's verdict on an uploaded invoice: FINISHED, INVOICE_INCORRECT or
        INVOICE_VIRUS_DETECTED. A refused invoice no longer counts, so the seller
        may upload again."""
        request = self.invoice_requests.get(shipment_id)
        if request is None:
            raise Refused(f"shipment {shipment_id} has no invoice request")
        if status not in ("FINISHED", "INVOICE_INCORRECT", "INVOICE_VIRUS_DETECTED"):
            raise Refused(f"status {status!r} cannot be set")
        accepted = self.accepted_invoice(shipment_id)
        if accepted is None:
            raise Refused(f"shipment {shipment_id} has no uploaded invoice to judge")
        if status != "FINISHED":
            accepted.accepted = False
            accepted.refusal = status
        request.transitions.append((status, self.now()))
        return request

    def accepted_invoice(self, shipment_id: str) -> UploadedInvoice | None:
        return next((i for i in self.invoices.get(shipment_id, []) if i.accepted), None)

    def upload_invoice(self, shipment_id: str, upload: Upload) -> ProcessStatus:
        """Store an invoice for a shipment; one per shipment (a second one fails in
        its process status, UNCONFIRMED) unless bol refused the earlier one."""
        shipment = self.shipment(shipment_id)
        uploads = self.invoices.setdefault(shipment_id, [])
        description = f"Upload invoice for shipment {shipment_id}."
        error = None
        if self.accepted_invoice(shipment_id) is not None:
            error = f"An invoice has already been uploaded for shipment {shipment_id}."
        status = self._process(shipment_id, "UPLOAD_INVOICE", description, error)
        uploads.append(
            UploadedInvoice(
                shipment_id=shipment.shipment_id,
                number=len(uploads) + 1,
                filename=upload.filename,
                content_type=upload.content_type,
                kind="pdf" if upload.kind == "pdf" else "ubl",
                data=upload.data,
                uploaded_at=self.now(),
                process_status_id=status.process_status_id,
                accepted=error is None,
                refusal=error,
            )
        )
        request = self.invoice_requests.get(shipment_id)
        if error is None and request is not None:
            request.transitions.append(("INVOICE_UPLOADED", self.now()))
        return status
