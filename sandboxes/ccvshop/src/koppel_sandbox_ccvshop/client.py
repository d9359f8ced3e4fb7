"""A small typed client for the sandbox's control API (tests and the demo use it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from koppel_sandbox_kit import ControlClient

from .jsontext import CCV_JSON

CcvJson = dict[str, Any]
"""A resource exactly as the CCV API renders it (money as Decimal)."""


@dataclass(frozen=True)
class ApiKey:
    public: str
    secret: str


class CcvShopControl(ControlClient):
    codec = CCV_JSON

    # --- API keys -----------------------------------------------------------

    async def create_api_key(self, public: str | None = None, secret: str | None = None) -> ApiKey:
        data = await self._call("POST", "/credentials", {"public": public, "secret": secret})
        return ApiKey(data["public"], data["secret"])

    async def change_secret(self, public: str, secret: str | None = None) -> ApiKey:
        data = await self._call("PUT", f"/credentials/{public}", {"secret": secret})
        return ApiKey(data["public"], data["secret"])

    async def revoke_api_key(self, public: str) -> None:
        await self._call("DELETE", f"/credentials/{public}")

    # --- orders -------------------------------------------------------------

    async def seed_order(self, **spec: Any) -> CcvJson:
        """A completed checkout. Any of: rows (with sub_product_number, sub_sku_number,
        attributes), customer, coupon, shipping, shipping_tax_percentage,
        shipping_taxes_included, paymethod, paymethod_costs, credit_point_discount,
        extra_costs, order_row_taxes_included, currency, create_date, paid, status,
        is_completed, overrides."""
        result: CcvJson = await self._call("POST", "/orders", spec)
        return result

    async def order(self, order_id: int) -> CcvJson:
        result: CcvJson = await self._call("GET", f"/orders/{order_id}")
        return result

    async def rows(self, order_id: int) -> list[CcvJson]:
        result: list[CcvJson] = await self._call("GET", f"/orders/{order_id}/rows")
        return result

    async def mark_paid(self, order_id: int, paid: bool = True) -> CcvJson:
        result: CcvJson = await self._call("POST", f"/orders/{order_id}/paid", {"paid": paid})
        return result

    async def set_status(self, order_id: int, status: int) -> CcvJson:
        result: CcvJson = await self._call("POST", f"/orders/{order_id}/status", {"status": status})
        return result

    async def edit_order(
        self, order_id: int, *, old: Literal["cancel", "delete"] = "cancel", **changes: Any
    ) -> CcvJson:
        """Re-issue the order under a new id (same order number); returns the new order."""
        result: CcvJson = await self._call(
            "POST", f"/orders/{order_id}/edit", {**changes, "old": old}
        )
        return result

    async def cancel_order(self, order_id: int) -> CcvJson:
        result: CcvJson = await self._call("POST", f"/orders/{order_id}/cancel")
        return result

    # --- webhooks -----------------------------------------------------------

    async def webhooks(self) -> list[CcvJson]:
        result: list[CcvJson] = await self._call("GET", "/webhooks")
        return result

    async def wait_for_webhooks(
        self, address: str, count: int, timeout: float = 20.0
    ) -> list[CcvJson]:
        """The active webhooks registered for `address`, once there are `count` of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [h for h in await self.webhooks() if h["address"] == address and h["is_active"]]
            if len(found) >= count:
                return found
            if loop.time() > deadline:
                raise TimeoutError(f"{len(found)} of {count} webhooks registered for {address}")
            await asyncio.sleep(0.1)

    async def pause_webhooks(self) -> None:
        await self._call("POST", "/webhooks/pause")

    async def resume_webhooks(self) -> None:
        await self._call("POST", "/webhooks/resume")

    async def deliveries(self) -> list[CcvJson]:
        """Every delivery so far, after those in flight have finished."""
        result: list[CcvJson] = await self._call("GET", "/webhooks/deliveries")
        return result

    async def redeliver(self, delivery_id: int) -> CcvJson:
        result: CcvJson = await self._call("POST", f"/webhooks/deliveries/{delivery_id}/redeliver")
        return result

    # --- limits, behaviour, faults ------------------------------------------

    async def set_rate_limits(
        self,
        *,
        get: int | None = None,
        write: int | None = None,
        total: int | None = None,
        window_seconds: float | None = None,
    ) -> CcvJson:
        changes = {"get": get, "write": write, "total": total, "window_seconds": window_seconds}
        result: CcvJson = await self._call(
            "PUT", "/ratelimits", {k: v for k, v in changes.items() if v is not None}
        )
        return result

    async def reset_rate_limits(self) -> None:
        await self._call("DELETE", "/ratelimits")

    async def configure(self, **changes: Any) -> CcvJson:
        """Unconfirmed behaviour: auth_failure_status, max_clock_skew_seconds,
        sign_responses, webhook_signature ("body" | "address_body"), page sizes."""
        result: CcvJson = await self._call("PATCH", "/config", changes)
        return result

    async def counters(self) -> dict[str, int]:
        result: dict[str, int] = await self._call("GET", "/counters")
        return result
