"""Webhook registration and signed deliveries; edits re-issue an order under a new id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from koppel_sandbox_ccvshop import webhook_signature
from koppel_sandbox_kit import serve
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .conftest import Sandbox, decoded

WEBHOOKS = "/api/rest/v1/webhooks"


@dataclass
class Receiver:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answer: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    box = Receiver(url="")

    async def hook(request: Request) -> Response:
        box.received.append((dict(request.headers), await request.body()))
        return Response(status_code=box.answer)

    async with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        box.url = f"{url}/hook"
        yield box


async def _register(sandbox: Sandbox, event: str, address: str) -> dict:
    created = await sandbox.call(
        "POST", WEBHOOKS, {"event": event, "address": address, "is_active": True}
    )
    assert created.status_code == 201, created.text
    return decoded(created)


async def test_deliveries_are_signed_with_the_webhook_key(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    hooks = {
        event: await _register(sandbox, event, receiver.url)
        for event in ("orders.created", "orders.updated.ispaid", "orders.updated.status")
    }
    assert len({h["key"] for h in hooks.values()}) == 3, "one generated key per webhook"
    order = await sandbox.control.seed_order()
    await sandbox.control.mark_paid(order["id"])
    await sandbox.control.set_status(order["id"], 5)
    deliveries = await sandbox.control.deliveries()
    assert [d["event"] for d in deliveries] == [
        "orders.created",
        "orders.updated.ispaid",
        "orders.updated.status",
    ]
    assert all(d["status"] == "delivered" and d["http_status"] == 200 for d in deliveries)
    assert len(receiver.received) == 3
    for (headers, body), delivery in zip(receiver.received, deliveries, strict=True):
        key = hooks[delivery["event"]]["key"]
        assert headers["x-hash"] == webhook_signature(key, body)
    paid = json.loads(receiver.received[1][1])
    status = json.loads(receiver.received[2][1])
    assert paid["id"] == order["id"] and paid["paid"] is True
    assert paid["order_number"] == order["ordernumber"], "underscore in webhook payloads"
    assert paid["href"].endswith(f"/orders/{order['id']}"), "no trailing slash"
    assert (status["previous_status"], status["status"]) == (1, 5)


async def test_address_body_signature_mode(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = await _register(sandbox, "orders.created", receiver.url)
    await sandbox.control.configure(webhook_signature="address_body")
    await sandbox.control.seed_order()
    await sandbox.control.deliveries()
    headers, body = receiver.received[0]
    assert headers["x-hash"] == webhook_signature(hook["key"], body, receiver.url)


async def test_base64_signature_mode_models_a_changed_scheme(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    hook = await _register(sandbox, "orders.created", receiver.url)
    await sandbox.control.configure(webhook_signature="base64_body")
    await sandbox.control.seed_order()
    await sandbox.control.deliveries()
    headers, body = receiver.received[0]
    assert headers["x-hash"] == webhook_signature(hook["key"], body, base64_digest=True)
    assert headers["x-hash"] != webhook_signature(hook["key"], body)


async def test_paused_and_failed_deliveries_are_never_retried(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    await _register(sandbox, "orders.updated.ispaid", receiver.url)
    first = await sandbox.control.seed_order()
    await sandbox.control.pause_webhooks()
    await sandbox.control.mark_paid(first["id"])
    await sandbox.control.resume_webhooks()
    receiver.answer = 500
    second = await sandbox.control.seed_order()
    await sandbox.control.mark_paid(second["id"])
    deliveries = await sandbox.control.deliveries()
    assert [(d["order_id"], d["status"]) for d in deliveries] == [
        (first["id"], "paused"),
        (second["id"], "failed"),
    ]
    assert len(receiver.received) == 1, "the paused one was never sent, the failed one not again"

    receiver.answer = 200
    again = await sandbox.control.redeliver(2)
    assert again["status"] == "delivered" and again["body"] == deliveries[1]["body"]
    assert receiver.received[1] == receiver.received[0], "a duplicate, byte for byte"


async def test_webhook_resource_crud(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = await _register(sandbox, "orders.created", receiver.url)
    listed = decoded(await sandbox.call("GET", WEBHOOKS))
    assert [h["id"] for h in listed["items"]] == [hook["id"]]
    one = f"{WEBHOOKS}/{hook['id']}"
    assert (await sandbox.call("PATCH", one, {"is_active": False})).status_code == 204
    assert decoded(await sandbox.call("GET", one))["is_active"] is False
    await sandbox.control.seed_order()
    assert await sandbox.control.deliveries() == [], "inactive webhooks get nothing"
    assert (await sandbox.call("DELETE", one)).status_code == 204
    assert (await sandbox.call("GET", one)).status_code == 404
    unknown = await sandbox.call("POST", WEBHOOKS, {"event": "orders.nope", "address": "x"})
    assert unknown.status_code == 400


async def test_edit_reissues_the_order_under_a_new_id_and_cancels_the_old(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    for event in ("orders.created", "orders.updated.status"):
        await _register(sandbox, event, receiver.url)
    original = await sandbox.control.seed_order(paid=True)
    edited = await sandbox.control.edit_order(
        original["id"], rows=[{"product_name": "Koffiemok zwart", "price": "14.50"}]
    )
    assert edited["id"] != original["id"]
    assert edited["ordernumber_full"] == original["ordernumber_full"]
    assert edited["paid"] is True and edited["total_price"] != original["total_price"]
    old = await sandbox.call("GET", f"/api/rest/v1/orders/{original['id']}")
    assert decoded(old)["status"] == 8
    events = [(d["event"], d["order_id"]) for d in await sandbox.control.deliveries()]
    assert events == [
        ("orders.created", original["id"]),
        ("orders.created", edited["id"]),
        ("orders.updated.status", original["id"]),
    ]
    same_number = decoded(
        await sandbox.call("GET", f"/api/rest/v1/orders?ordernumber={original['ordernumber']}")
    )
    assert {o["id"] for o in same_number["items"]} == {original["id"], edited["id"]}


async def test_edit_can_make_the_old_order_disappear(sandbox: Sandbox) -> None:
    original = await sandbox.control.seed_order(paid=True)
    edited = await sandbox.control.edit_order(original["id"], old="delete", shipping="0")
    assert (await sandbox.call("GET", f"/api/rest/v1/orders/{original['id']}")).status_code == 404
    assert (
        decoded(await sandbox.call("GET", f"/api/rest/v1/orders/{edited['id']}"))["total_shipping"]
        == 0
    )
