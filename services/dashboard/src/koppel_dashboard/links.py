"""Links from an order to the shop's order and the ledger's document, where the system has
a page for it. The address patterns are configuration (`shop_links`, `ledger_links`):
vendors do not document their back-office URLs, so none is assumed."""

from __future__ import annotations

from collections.abc import Mapping
from string import Formatter
from typing import Any

from koppel_contracts import ConnectionSettings

from .orders import OrderView


def _fill(template: str | None, values: Mapping[str, Any]) -> str | None:
    if not template:
        return None
    needed = {name for _, name, _, _ in Formatter().parse(template) if name}
    if any(not values.get(name) for name in needed):
        return None  # e.g. no document number yet: no link rather than a broken one
    return template.format(**{k: str(v) for k, v in values.items() if v is not None})


def shop_link(
    templates: Mapping[str, str], settings: ConnectionSettings, view: OrderView
) -> str | None:
    shop_state = (view.shop or {}).get("state") or {}
    return _fill(
        templates.get(str(settings.shop.system)),
        {
            "base_url": str(settings.shop.base_url).rstrip("/"),
            "order_id": shop_state.get("source_order_id") or view.order_ref,
            "order_number": view.order_number,
        },
    )


def ledger_link(
    templates: Mapping[str, str], settings: ConnectionSettings, view: OrderView
) -> str | None:
    ref = view.ledger_ref or {}
    return _fill(
        templates.get(str(settings.ledger.system)),
        {
            "base_url": str(settings.ledger.base_url).rstrip("/"),
            "dossier_id": settings.ledger.dossier_id,
            "booking_id": ref.get("booking_id"),
            "document_number": ref.get("document_number"),
        },
    )
