"""A small async client for the sandbox's control API (tests and the demo use it).
Amounts come back as strings, the way the 8.x JSON shows them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import ControlClient

Json = dict[str, Any]


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class ClientJson:
    """What the client sends and reads: Decimals go out as strings (amounts as the control
    API takes them), answers are read as plain JSON (their amounts are strings already)."""

    def dumps(self, value: Any) -> str:
        return json.dumps(value, default=_encode)

    def loads(self, raw: bytes | str) -> Any:
        return json.loads(raw)


class PrestaShopControl(ControlClient):
    """The kit's control client (`async with`, `aclose`, `verify=`, faults)."""

    codec = ClientJson()

    # --- shop ------------------------------------------------------------------

    async def reset(self) -> None:
        """Back to the shop's starting data (the demo shop's, for `demo_shop()`)."""
        await self._call("POST", "/reset")

    async def config(self) -> Json:
        result: Json = await self._call("GET", "/config")
        return result

    async def configure(self, **changes: Any) -> Json:
        """round_type (1 item, 2 line, 3 total), api_style ("8" | "1.7"), ps_version,
        shop_name, timezone, webservice_enabled, refund_touches_order."""
        result: Json = await self._call("PATCH", "/config", changes)
        return result

    async def set_webservice(self, enabled: bool) -> None:
        await self._call("POST", "/webservice", {"enabled": enabled})

    async def disable_webservice(self) -> None:
        await self.set_webservice(False)

    # --- keys -------------------------------------------------------------------

    async def create_key(
        self,
        permissions: dict[str, list[str]] | str = "read",
        *,
        key: str | None = None,
        active: bool = True,
    ) -> str:
        """A webservice key: permissions "read" (GET+HEAD everywhere), "all", or
        {resource: [methods]}. Returns the key."""
        body = {"permissions": permissions, "key": key, "active": active}
        data = await self._call("POST", "/keys", {k: v for k, v in body.items() if v is not None})
        return str(data["key"])

    async def change_key(
        self, key: str, *, active: bool | None = None, permissions: Any = None
    ) -> Json:
        body = {"active": active, "permissions": permissions}
        result: Json = await self._call(
            "PATCH", f"/keys/{key}", {k: v for k, v in body.items() if v is not None}
        )
        return result

    async def delete_key(self, key: str) -> None:
        await self._call("DELETE", f"/keys/{key}")

    # --- order states -------------------------------------------------------------

    async def order_states(self) -> list[Json]:
        result: list[Json] = await self._call("GET", "/order_states")
        return result

    async def set_order_states(self, states: list[Json]) -> list[Json]:
        """Replace all states: [{id, name ({"nl": …, "en": …} or str), paid, logable,
        invoice, shipped, delivery, module_name, color}]."""
        result: list[Json] = await self._call("PUT", "/order_states", states)
        return result

    async def add_order_state(self, **spec: Any) -> Json:
        result: Json = await self._call("POST", "/order_states", spec)
        return result

    async def change_order_state(self, state_id: int, **flags: Any) -> Json:
        """E.g. `change_order_state(9, paid=False)`: which states count as paid."""
        result: Json = await self._call("PATCH", f"/order_states/{state_id}", flags)
        return result

    # --- orders -------------------------------------------------------------------

    async def create_order(self, **spec: Any) -> Json:
        """A completed checkout. Any of: customer, invoice_address, delivery_address,
        rows, cart_rules, shipping, wrapping, currency, state, payment, module,
        reference, sibling_of, date_add, round_type, note. Returns {order,
        order_details, order_cart_rules, order_histories, order_slip}."""
        result: Json = await self._call("POST", "/orders", spec)
        return result

    async def order(self, order_id: int) -> Json:
        result: Json = await self._call("GET", f"/orders/{order_id}")
        return result

    async def edit_order(self, order_id: int, **changes: Any) -> Json:
        """In place: rows (with `id` to keep a line), quantities {detail_id: qty},
        cart_rules, shipping, wrapping. Moves date_upd."""
        result: Json = await self._call("POST", f"/orders/{order_id}/edit", changes)
        return result

    async def set_state(self, order_id: int, state: int, employee: int = 1) -> Json:
        result: Json = await self._call(
            "POST", f"/orders/{order_id}/state", {"state": state, "employee": employee}
        )
        return result

    async def refund(
        self,
        order_id: int,
        lines: list[tuple[int, int]] | None = None,
        *,
        all_lines: bool = False,
        shipping: bool = False,
        partial: bool = False,
        state: int | None = None,
    ) -> Json:
        """A credit slip for (order_detail id, quantity) pairs, or every line."""
        body: Json = {"shipping": shipping, "partial": partial, "all": all_lines}
        if lines:
            body["lines"] = [{"id_order_detail": d, "quantity": q} for d, q in lines]
        if state is not None:
            body["state"] = state
        result: Json = await self._call("POST", f"/orders/{order_id}/refund", body)
        return result

    async def cancel_order(self, order_id: int) -> Json:
        result: Json = await self._call("POST", f"/orders/{order_id}/cancel")
        return result

    async def malform(
        self,
        order_id: int,
        *,
        order: Json | None = None,
        order_details: dict[int, Json] | None = None,
        clear: bool = False,
    ) -> Json:
        """Serve raw values instead of computed ones (e.g. a row whose totals do not add up)."""
        body: Json = {"order": order or {}, "order_details": order_details or {}, "clear": clear}
        result: Json = await self._call("POST", f"/orders/{order_id}/malform", body)
        return result

    async def set_tracking(self, order_id: int, tracking_number: str) -> Json:
        result: Json = await self._call(
            "POST", f"/orders/{order_id}/tracking", {"tracking_number": tracking_number}
        )
        return result

    # --- clock, limits, errors, faults ---------------------------------------------

    async def set_clock(self, now: str) -> str:
        """Freeze the shop clock at "YYYY-MM-DD HH:MM:SS" (shop-local time)."""
        return str((await self._call("POST", "/clock", {"now": now}))["now"])

    async def advance_clock(self, seconds: float) -> str:
        return str((await self._call("POST", "/clock", {"advance_seconds": seconds}))["now"])

    async def real_clock(self) -> None:
        await self._call("DELETE", "/clock")

    async def set_host_limit(self, limit: int, window_seconds: float = 60.0) -> None:
        """A hosting provider's limit in front of the shop: 429 + Retry-After (not PrestaShop)."""
        await self._call("PUT", "/host_limit", {"limit": limit, "window_seconds": window_seconds})

    async def clear_host_limit(self) -> None:
        await self._call("DELETE", "/host_limit")

    async def inject_error(
        self,
        status: int = 500,
        code: int = 46,
        message: str = "Unable to save resource",
        *,
        path: str = ".*",
        times: int = 1,
    ) -> None:
        """The next `times` webservice calls on a matching resource path answer a
        PrestaShop error document (in the format the call asked for)."""
        body = {"status": status, "code": code, "message": message, "path": path, "times": times}
        await self._call("POST", "/errors", body)

    async def clear_errors(self) -> None:
        await self._call("DELETE", "/errors")

    # Gateway faults before PrestaShop (`inject_fault`, `clear_faults`, `faults`: 5xx, a
    # hang, a delay) are the kit's.

    async def counters(self) -> dict[str, int]:
        result: dict[str, int] = await self._call("GET", "/counters")
        return result
