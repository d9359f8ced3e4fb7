"""The webhook receiver keeps a connection's state (its webhook keys) for a moment instead of
reading it for every delivery, yet never refuses a delivery signed with keys renewed
meanwhile, and never lets a wrong signature through."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from koppel_chassis import SecretBox, generate_key
from koppel_ingest import webhooks
from koppel_ingest.clock import utcnow
from koppel_ingest.memory import MemoryStateStore
from koppel_ingest.records import ConnectionState, WebhookKey
from koppel_ingest.webhooks import BackgroundTasks, WebhookReceiver, WebhookRegistrar
from starlette.applications import Starlette
from starlette.routing import Route

CONNECTION = "c1"
ROUTE = "/webhooks/shop/{connection_id}"
ADDRESS = "http://koppel.test" + ROUTE.format(connection_id=CONNECTION)


class SignedBodies:
    """A shop's scheme in miniature: the signature header is the key itself."""

    route = ROUTE

    def verify(
        self, keys: list[str], body: bytes, address: str, headers: Mapping[str, str]
    ) -> bool:
        return address == ADDRESS and headers.get("x-signature") in keys

    def announced(self, body: bytes) -> str | None:
        try:
            return str(json.loads(body)["id"])
        except (ValueError, KeyError):
            return None


class CountingStates(MemoryStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, connection_id: str) -> ConnectionState | None:
        self.reads += 1
        return await super().get(connection_id)


class Shop:
    display_name = "Shop"


class Guard:
    def __init__(self) -> None:
        self.runs: list[str] = []

    async def run(self, connection_id: str, what: str, work: Any, state: Any = None) -> None:
        self.runs.append(what)


async def connected(states: CountingStates, box: SecretBox, key: str) -> None:
    now = datetime(2026, 12, 6, tzinfo=UTC)
    await states.settings_arrived(CONNECTION, 1, now, timedelta(minutes=5))
    hook = WebhookKey("w1", "orders.paid", box.encrypt(key))
    await states.save_webhooks(CONNECTION, ADDRESS, [hook])


def app(states: CountingStates, box: SecretBox, guard: Guard) -> Starlette:
    scheme = SignedBodies()
    receiver = WebhookReceiver(
        Shop(),  # type: ignore[arg-type]
        scheme,
        states,
        box,
        WebhookRegistrar(scheme, states, box, "http://koppel.test"),
        guard,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # the guard fake does the work
        BackgroundTasks(),
        utcnow,
    )
    return Starlette(routes=[Route(ROUTE, receiver.handle, methods=["POST"])])


async def deliver(http: httpx.AsyncClient, order_id: str, signature: str) -> int:
    body = json.dumps({"id": order_id}).encode()
    answer = await http.post(ADDRESS, content=body, headers={"x-signature": signature})
    return answer.status_code


async def test_deliveries_close_together_read_the_state_once() -> None:
    states, box, guard = CountingStates(), SecretBox(generate_key()), Guard()
    await connected(states, box, "key-1")
    transport = httpx.ASGITransport(app=app(states, box, guard))
    async with httpx.AsyncClient(transport=transport) as http:
        assert [await deliver(http, ref, "key-1") for ref in ("1", "2", "3")] == [200] * 3
    assert states.reads == 1


async def test_keys_renewed_meanwhile_are_read_again_and_a_wrong_signature_still_fails() -> None:
    states, box, guard = CountingStates(), SecretBox(generate_key()), Guard()
    await connected(states, box, "key-1")
    transport = httpx.ASGITransport(app=app(states, box, guard))
    async with httpx.AsyncClient(transport=transport) as http:
        assert await deliver(http, "1", "key-1") == 200
        # Another replica registered the webhooks again: the shop signs with a new key.
        await connected(states, box, "key-2")
        assert await deliver(http, "2", "key-2") == 200, "not refused for the kept keys"
        assert states.reads == 2
        assert await deliver(http, "3", "key-1") == 401, "the old key no longer counts"
        assert await deliver(http, "4", "forged") == 401


async def test_the_state_is_read_again_once_it_is_older_than_the_moment(monkeypatch) -> None:
    monkeypatch.setattr(webhooks, "STATE_KEPT_SECONDS", 0.0)
    states, box, guard = CountingStates(), SecretBox(generate_key()), Guard()
    await connected(states, box, "key-1")
    transport = httpx.ASGITransport(app=app(states, box, guard))
    async with httpx.AsyncClient(transport=transport) as http:
        assert [await deliver(http, ref, "key-1") for ref in ("1", "2")] == [200, 200]
    assert states.reads == 2
