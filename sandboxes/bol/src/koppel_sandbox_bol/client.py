"""A small typed client for the sandbox's control API (tests, the demo, the benchmark).

`BolControl(url)` works on the first account ("default"); `BolControl(url,
retailer_id=…)` or `control.for_account(id)` on another one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx
from koppel_sandbox_kit import ControlClient

from .jsonio import BOL_JSON

BolJson = dict[str, Any]
"""A resource exactly as the Retailer API renders it (amounts as Decimal)."""


@dataclass(frozen=True)
class Credentials:
    retailer_id: str
    client_id: str
    client_secret: str


class BolControl(ControlClient):
    """The kit's control client (`async with`, `aclose`, faults) in bol's JSON."""

    codec = BOL_JSON

    def __init__(
        self,
        base_url: str,
        *,
        retailer_id: str = "default",
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, timeout=timeout, http=http)
        self.retailer_id = retailer_id

    def for_account(self, retailer_id: str) -> BolControl:
        """The same connection, working on another account."""
        return BolControl(self.base_url, retailer_id=retailer_id, http=self._http)

    @property
    def _a(self) -> str:
        return f"/accounts/{self.retailer_id}"

    # --- sandbox --------------------------------------------------------------

    async def reset(self, *, demo: bool = False) -> None:
        """Forget orders, counts, limits, faults and config; keep accounts and tokens."""
        await self._call("POST", "/reset", {"demo": demo})

    async def configure(self, **changes: Any) -> BolJson:
        """The unconfirmed behaviour (see README): page_size, handled_visible_hours,
        empty_list_shape, problem_violations_always, process_delay_seconds, …"""
        result: BolJson = await self._call("PATCH", "/config", changes)
        return result

    async def advance_clock(self, seconds: float) -> str:
        result: BolJson = await self._call("POST", "/clock", {"advanceSeconds": seconds})
        return str(result["now"])

    async def now(self) -> str:
        result: BolJson = await self._call("GET", "/clock")
        return str(result["now"])

    # --- accounts ---------------------------------------------------------------

    async def create_account(self, **spec: Any) -> Credentials:
        """Any of: retailerId, clientId, clientSecret, name, products [{ean, title,
        price, reference, offerId, category}], demo (the demo account)."""
        data = await self._call("POST", "/accounts", spec)
        return Credentials(data["retailerId"], data["clientId"], data["clientSecret"])

    async def accounts(self) -> list[BolJson]:
        result: list[BolJson] = await self._call("GET", "/accounts")
        return result

    async def set_account_active(self, active: bool) -> None:
        """An inactive account gets 403 "Account is not active" on every API call."""
        await self._call("PATCH", self._a, {"active": active})

    async def replace_credentials(
        self, *, client_id: str | None = None, client_secret: str | None = None
    ) -> Credentials:
        """The seller replaces the API credentials: the old client id and secret (and
        the tokens issued to them) are refused from now on; returns the new pair."""
        body = {k: v for k, v in (("clientId", client_id), ("clientSecret", client_secret)) if v}
        data = await self._call("POST", f"{self._a}/credentials", body)
        return Credentials(data["retailerId"], data["clientId"], data["clientSecret"])

    async def add_products(self, products: list[BolJson]) -> None:
        await self._call("PATCH", self._a, {"products": products})

    # --- orders -------------------------------------------------------------------

    async def place_order(self, **spec: Any) -> BolJson:
        """A buyer orders; returns the order as `GET /retailer/orders/{id}` shows it.
        Any of: items [{ean, quantity, unitPrice, title, offerReference, commission,
        discounts, fulfilmentMethod, …}], business, invoiceRequested, country,
        shipmentDetails, billingDetails, pickupPoint, fulfilmentMethod, placedAt,
        ship (ship at once: the order never appears as OPEN)."""
        result: BolJson = await self._call("POST", f"{self._a}/orders", spec)
        return result

    async def order(self, order_id: str) -> BolJson:
        result: BolJson = await self._call("GET", f"{self._a}/orders/{order_id}")
        return result

    async def ship(
        self,
        order_id: str,
        items: list[BolJson] | None = None,
        *,
        reference: str = "",
        transporter_code: str = "POSTNL",
        track_and_trace: str | None = None,
    ) -> BolJson:
        """Ship items ([{orderItemId, quantity?}], default: all that is open) in one
        shipment; returns it as `GET /retailer/shipments/{id}` shows it."""
        body: BolJson = {"reference": reference, "transporterCode": transporter_code}
        if items is not None:
            body["items"] = items
        if track_and_trace is not None:
            body["trackAndTrace"] = track_and_trace
        result: BolJson = await self._call("POST", f"{self._a}/orders/{order_id}/ship", body)
        return result

    async def request_cancellation(
        self, order_id: str, order_item_ids: list[str] | None = None
    ) -> BolJson:
        """The customer asks to cancel (flags `cancellationRequest`; nothing cancelled)."""
        body = {} if order_item_ids is None else {"orderItemIds": order_item_ids}
        path = f"{self._a}/orders/{order_id}/cancellation-request"
        result: BolJson = await self._call("POST", path, body)
        return result

    async def cancel(
        self,
        order_id: str,
        items: list[BolJson] | None = None,
        *,
        by: Literal["customer", "seller"] = "seller",
    ) -> BolJson:
        """Cancel open quantities ([{orderItemId, quantity?}], default: all open)."""
        body: BolJson = {"by": by}
        if items is not None:
            body["items"] = items
        result: BolJson = await self._call("POST", f"{self._a}/orders/{order_id}/cancel", body)
        return result

    async def age_order(self, order_id: str, hours: float) -> BolJson:
        """Move the order's history `hours` back: past 48 h a handled order leaves
        the order list and only its shipments still show it."""
        path = f"{self._a}/orders/{order_id}/age"
        result: BolJson = await self._call("POST", path, {"hours": hours})
        return result

    async def shipment(self, shipment_id: str) -> BolJson:
        result: BolJson = await self._call("GET", f"{self._a}/shipments/{shipment_id}")
        return result

    # --- returns ------------------------------------------------------------------

    async def create_return(self, order_item_id: str, quantity: int = 1, **details: Any) -> BolJson:
        """A customer returns shipped units. Any of: mainReason, detailedReason,
        comments, trackAndTrace, handlingResult (handle it at once)."""
        body = {"orderItemId": order_item_id, "quantity": quantity, **details}
        result: BolJson = await self._call("POST", f"{self._a}/returns", body)
        return result

    async def handle_return(
        self, rma_id: str, handling_result: str = "RETURN_RECEIVED", quantity: int | None = None
    ) -> BolJson:
        body: BolJson = {"handlingResult": handling_result}
        if quantity is not None:
            body["quantity"] = quantity
        result: BolJson = await self._call("POST", f"{self._a}/returns/{rma_id}/handle", body)
        return result

    # --- invoices -----------------------------------------------------------------

    async def request_invoice(self, shipment_id: str) -> BolJson:
        path = f"{self._a}/shipments/{shipment_id}/invoice-request"
        result: BolJson = await self._call("POST", path)
        return result

    async def set_invoice_status(
        self,
        shipment_id: str,
        status: Literal["FINISHED", "INVOICE_INCORRECT", "INVOICE_VIRUS_DETECTED"],
    ) -> BolJson:
        path = f"{self._a}/shipments/{shipment_id}/invoice-status"
        result: BolJson = await self._call("POST", path, {"status": status})
        return result

    async def invoices(self, shipment_id: str | None = None) -> Any:
        """Uploaded invoices (metadata): of one shipment as a list, or of all as
        {shipmentId: [...]}; refused second uploads included (`accepted: false`)."""
        if shipment_id is None:
            return await self._call("GET", f"{self._a}/invoices")
        return await self._call("GET", f"{self._a}/shipments/{shipment_id}/invoices")

    async def invoice_file(self, shipment_id: str, number: int = 1) -> bytes:
        path = f"{self._a}/shipments/{shipment_id}/invoices/{number}"
        response = await self._http.get(path)
        response.raise_for_status()
        return response.content

    # --- calls, limits -------------------------------------------------------------

    async def calls(self) -> BolJson:
        """{calls: {"GET /retailer/orders": n, …}, rateLimited: {…}, total: n}."""
        result: BolJson = await self._call("GET", f"{self._a}/calls")
        return result

    async def reset_calls(self) -> None:
        await self._call("DELETE", f"{self._a}/calls")

    async def rate_limits(self) -> BolJson:
        result: BolJson = await self._call("GET", "/ratelimits")
        return result

    async def set_rate_limit(
        self, group: str, capacity: int, window_seconds: float | None = None
    ) -> BolJson:
        spec: BolJson = {"capacity": capacity}
        if window_seconds is not None:
            spec["windowSeconds"] = window_seconds
        result: BolJson = await self._call("PUT", "/ratelimits", {group: spec})
        return result

    async def reset_rate_limits(self) -> None:
        """Empty every window (the limits stay)."""
        await self._call("DELETE", "/ratelimits")

    # Faults (`inject_fault`, `clear_faults`, `faults`) are the kit's: they fail `/token` too.
