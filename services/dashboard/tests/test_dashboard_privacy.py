"""The dashboard shows a sealed order's customer by name, keeps the timeline sealed, and
after an erasure shows "Verwijderde klant" and holds the name nowhere (real broker and
database)."""

from __future__ import annotations

import json

from koppel_chassis import SecretBox
from koppel_contracts import CONNECTIONS, PRIVACY_KEYS, SHOP_ORDERS, CustomerKeyEvent, SourceSystem
from koppel_privacy import CustomerKey, erasures, seal_event
from koppel_testkit import eventually

from .dashboard_support import login, order_event, publish, settings_event

PERSONAL = ("Jan Jansen", "jan@example.nl", "Dorpsstraat", "0612345678")


async def everything_stored(db) -> str:
    """Every document of every collection of the dashboard's database, as text."""
    texts = []
    for name in await db.list_collection_names():
        texts += [json.dumps(doc, default=str) async for doc in db[name].find({})]
    return "\n".join(texts)


async def test_a_sealed_order_shows_its_customer_until_the_customer_is_erased(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    box = SecretBox(secrets_key)
    key = CustomerKey.generate()
    sealed = seal_event(order_event("deboon", "1001"), key)
    active = CustomerKeyEvent.active(
        "deboon", key.key_id, key.wrapped(box), box.encrypt("subject"), SourceSystem.CCVSHOP
    )
    # The order overtakes its key: the dashboard waits for the key instead of showing none.
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event("deboon", secrets_key)),
        (kafka_topics[SHOP_ORDERS.name], sealed),
    )
    await publish(kafka_bootstrap, (kafka_topics[PRIVACY_KEYS.name], active))
    shop_orders = dashboard.db["shop_orders"]

    async def named() -> bool:
        doc = await shop_orders.find_one({"_id": "deboon:1001"})
        return bool(doc) and doc["state"]["customer_name"] == "Jan Jansen"

    await eventually(named, timeout=30)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = await browser.get("/connections/deboon/orders/1001")
    assert page.status_code == 200 and "Jan Jansen" in page.text
    assert "jan@example.nl" not in page.text, "the timeline shows the event sealed"

    await publish(kafka_bootstrap, (kafka_topics[PRIVACY_KEYS.name], erasures([active])[0]))

    async def erased() -> bool:
        doc = await shop_orders.find_one({"_id": "deboon:1001"})
        return doc["state"]["customer_name"] == "Verwijderde klant"

    await eventually(erased, timeout=30)
    page = await browser.get("/connections/deboon/orders/1001")
    assert "Verwijderde klant" in page.text
    listing = await browser.get("/connections/deboon", follow_redirects=True)
    assert listing.status_code == 200 and "WEB-1001" in listing.text
    stored = await everything_stored(dashboard.db)
    for value in PERSONAL:
        assert value not in page.text and value not in listing.text, value
        assert value not in stored, value
    assert key.secret.get_secret_value() not in stored
