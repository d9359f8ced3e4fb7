"""The state stores address documents by `_id`, often with a guard (`{_id, lock_owner}`,
`{_id, revision}`): the server must answer those from its `_id` index, or every write
grows with the collection. Real MongoDB does; stock FerretDB 1.24 did not (deploy/local
patches it). Checked with `explain`, so the test says *why* a lookup is slow, not how
long it took."""

from __future__ import annotations

from typing import Any

import pytest

FILTERS = [
    pytest.param({"_id": "shop-1:1001"}, id="_id alone"),
    pytest.param({"_id": "shop-1:1001", "revision": 2}, id="_id with a guard"),
    pytest.param({"_id": "shop-1:1001", "lock_owner": "w-1", "revision": 2}, id="two guards"),
]


def _uses_index(explained: dict[str, Any]) -> bool:
    if "ferretdbVersion" in explained.get("serverInfo", {}):
        # FerretDB/SQLite reports SQLite's own EXPLAIN QUERY PLAN lines.
        plan = " ".join(explained["queryPlanner"].get("Plan", []))
        return bool(explained.get("filterPushdown")) and "USING INDEX" in plan
    stages: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "stage" in node:
                stages.append(str(node["stage"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(explained["queryPlanner"]["winningPlan"])
    return any(s in {"IDHACK", "EXPRESS_IXSCAN", "IXSCAN", "CLUSTERED_IXSCAN"} for s in stages)


@pytest.mark.parametrize("query", FILTERS)
async def test_lookup_by_id_uses_the_id_index(mongo_db: Any, query: dict[str, Any]) -> None:
    orders = mongo_db["orders"]
    await orders.insert_many(
        [{"_id": f"shop-1:{n}", "revision": 2, "lock_owner": "w-1"} for n in range(1000, 1050)]
    )
    explained = await mongo_db.command(
        {"explain": {"find": "orders", "filter": query}, "verbosity": "queryPlanner"}
    )
    assert _uses_index(explained), explained
    assert await orders.count_documents(query) == 1
