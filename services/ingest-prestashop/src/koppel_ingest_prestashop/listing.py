"""What a poll lists (§3): the orders whose `date_upd` moved since the cursor, the credit
slips made since theirs (a slip does not move its order), and — for every order either
names — what tells whether it changed since the last poll.

An order's fingerprint covers its list item and its credit slips (id and `date_upd`, as
`fetch` reads them), so the runtime's "unchanged since last time" memory holds for an
order a slip named too: the newest slip stays inside the overlap window until a newer one
comes, and its order is not read again on every poll.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

from koppel_ingest import Candidate

from .client import PrestashopClient
from .orders import Trigger, candidate
from .polling import Interval
from .records import State
from .webservice import Json

SORT_BY_CHANGE = "[date_upd_ASC,id_ASC]"
SLIP_MARKS = "[id,id_order,date_upd]"
IDS_PER_REQUEST = 50  # keeps `filter[…]=[1|2|…]` far below any URL limit


@dataclass(frozen=True)
class Listed:
    candidates: list[Candidate]
    newest_order: str | None  # the newest order `date_upd` listed
    newest_slip: str | None  # the newest credit slip `date_upd` listed


async def list_changes(
    client: PrestashopClient,
    states: Mapping[int, State],
    trigger: Trigger,
    orders_span: Interval,
    slips_span: Interval,
) -> Listed:
    """Orders changed in `orders_span`, then orders of slips made in `slips_span`; oldest
    change first."""
    items: dict[str, Json] = {}
    newest_order: str | None = None
    async for item in client.objects(
        "orders", filters={"date_upd": orders_span.filter}, sort=SORT_BY_CHANGE, dates=True
    ):
        items[str(item.get("id"))] = item
        newest_order = max(newest_order or "", str(item.get("date_upd")))
    slip_orders: dict[str, None] = {}
    newest_slip: str | None = None
    async for slip in client.objects(
        "order_slip",
        filters={"date_upd": slips_span.filter},
        display=SLIP_MARKS,
        sort=SORT_BY_CHANGE,
        dates=True,
    ):
        slip_orders[str(slip.get("id_order"))] = None
        newest_slip = max(newest_slip or "", str(slip.get("date_upd")))
    # The list items of orders only a slip named (in the slips' order), and every listed
    # order's slips.
    unlisted = [order_id for order_id in slip_orders if order_id not in items]
    named = {str(item.get("id")): item async for item in _by_ids(client, "orders", "id", unlisted)}
    items.update((order_id, named[order_id]) for order_id in unlisted if order_id in named)
    slips = await slips_of(client, items)
    found = {
        order_id: candidate(item, states, trigger, slips.get(order_id, ()))
        for order_id, item in items.items()
    }
    for order_id in slip_orders:
        # A slip whose order the shop no longer lists: the fetch tells what became of it.
        found.setdefault(order_id, Candidate(order_id))
    return Listed(list(found.values()), newest_order, newest_slip)


async def slips_of(client: PrestashopClient, order_ids: Iterable[str]) -> dict[str, list[Json]]:
    """Each order's credit slips (id, id_order, date_upd), by order id."""
    found: dict[str, list[Json]] = {}
    async for slip in _by_ids(client, "order_slip", "id_order", order_ids, display=SLIP_MARKS):
        found.setdefault(str(slip.get("id_order")), []).append(slip)
    return found


async def _by_ids(
    client: PrestashopClient,
    resource: str,
    field: str,
    ids: Iterable[str],
    display: str = "full",
) -> AsyncIterator[Json]:
    wanted = list(ids)
    for start in range(0, len(wanted), IDS_PER_REQUEST):
        chunk = "|".join(wanted[start : start + IDS_PER_REQUEST])
        async for item in client.objects(
            resource, filters={field: f"[{chunk}]"}, display=display, sort="[id_ASC]"
        ):
            yield item
