"""The shop contract: what every shop adapter must do against its own sandbox, driven by
the real runtime (without Kafka: see `driver`). Subclass `ShopContract` in a shop
service's tests and provide the fixture `harness` (a `ShopHarness`); shops with webhooks
subclass `WebhookContract` too (a `WebhookHarness`). Each test starts with a new
connection to the sandbox and no orders since."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from koppel_contracts import (
    AlertKind,
    ConnectionSettings,
    Language,
    OrderEventKind,
    OrderStatus,
)
from koppel_sandbox_kit import free_port, html_page_app, redirect_app, serve, serve_tls
from koppel_testkit import eventually

from ..webhooks import MAX_BODY_BYTES
from .driver import CONNECTION, Driver, ShopHarness, WebhookHarness


def _at(settings: ConnectionSettings, url: str) -> ConnectionSettings:
    """The same connection, with the shop's address replaced."""
    shop = settings.shop.model_copy(update={"base_url": url})
    return settings.model_copy(update={"shop": shop})


def _per_order(driver: Driver) -> Counter[tuple[str, int]]:
    return Counter((e.order_ref, e.revision) for e in driver.orders())


class ShopContract:
    """Each order published once, whatever the shop does."""

    @pytest.fixture
    async def driver(self, harness: ShopHarness) -> AsyncIterator[Driver]:
        driver = Driver(harness.adapter, box=harness.box)
        await driver.connect(harness.settings())
        yield driver
        await driver.aclose()

    # ---- revisions -------------------------------------------------------------------------

    async def test_an_order_that_becomes_bookable_is_published_once(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        order = await harness.place_order(bookable=False)
        await driver.poll()
        assert driver.orders() == [], "not bookable yet"
        await harness.make_bookable(order)
        await driver.poll()
        [event] = driver.orders()
        assert (event.kind, event.revision, event.order_ref) == (
            OrderEventKind.CREATED,
            1,
            order,
        )
        assert event.connection_id == CONNECTION
        assert event.source_system == harness.adapter.source_system
        assert event.order.source_order_id == order

    async def test_the_same_order_seen_again_publishes_nothing(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        order = await harness.place_order()
        await driver.poll()
        await driver.sync(order)  # a webhook (or a redelivery) for the same order
        await harness.progress(order)  # moved on, nothing to book differently
        await driver.poll()
        await driver.sync(order)
        assert [(e.order_ref, e.revision) for e in driver.orders()] == [(order, 1)]

    async def test_an_edited_order_is_an_amendment_of_the_same_order(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        order = await harness.place_order()
        await driver.poll()
        await harness.change_order(order)
        await driver.poll()
        created, amended = driver.orders()
        assert (amended.kind, amended.revision, amended.order_ref) == (
            OrderEventKind.AMENDED,
            2,
            order,
        )
        assert amended.content_hash != created.content_hash
        assert amended.order.status != OrderStatus.CANCELLED
        await driver.poll()
        assert len(driver.orders()) == 2, "an amendment is published once too"

    async def test_a_cancelled_order_is_a_cancellation_of_what_was_published(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        order = await harness.place_order()
        await driver.poll()
        await harness.cancel_order(order)
        await driver.poll()
        await driver.poll()
        created, cancelled = driver.orders()
        assert (cancelled.kind, cancelled.revision, cancelled.order_ref) == (
            OrderEventKind.CANCELLED,
            2,
            order,
        )
        assert cancelled.order.status == OrderStatus.CANCELLED
        assert cancelled.order.lines == created.order.lines, "what was booked is cancelled"

    async def test_an_order_never_published_is_never_cancelled(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        order = await harness.place_order(bookable=False)
        await driver.poll()
        await harness.cancel_order(order)
        await driver.poll()
        assert driver.orders() == []

    # ---- bad input -------------------------------------------------------------------------

    async def test_a_malformed_order_is_a_recorded_failure_and_the_poll_goes_on(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        malformed = await harness.place_malformed_order()
        good = await harness.place_order()
        await driver.poll()
        await driver.poll()
        assert [e.order_ref for e in driver.orders()] == [good]
        [alert] = driver.alerts()
        assert alert.kind == AlertKind.INGEST_FAILURE
        assert alert.reason_code == harness.adapter.order_unreadable_code
        assert alert.order_ref == malformed and alert.reason and alert.suggestion
        [failure] = await driver.failures()
        assert failure.source_order_id == malformed and failure.reason
        assert failure.reason in alert.reason, "the alert names the reason"

    # ---- the connection --------------------------------------------------------------------

    async def test_refused_credentials_alert_once_pause_and_resume_on_new_settings(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        fixed = await harness.refuse_credentials()
        await driver.poll()
        [alert] = driver.alerts()
        assert (alert.kind, alert.reason_code) == (
            AlertKind.CONNECTION_BROKEN,
            "shop_credentials_refused",
        )
        assert alert.reason and alert.suggestion and alert.order_ref is None
        assert (await driver.state()).broken
        order = await harness.place_order()
        before = await harness.requests()
        for _ in range(3):
            await driver.poll()
        assert await harness.requests() == before, "a broken connection is left alone"
        assert len(driver.alerts()) == 1
        await driver.connect(fixed, version=2)
        assert not (await driver.state()).broken
        assert [e.order_ref for e in driver.orders()] == [order], "caught up at once"

    async def test_5xx_and_429_are_retried(self, driver: Driver, harness: ShopHarness) -> None:
        order = await harness.place_order()
        await harness.fail_requests(503, times=1)
        await harness.fail_requests(429, times=1)
        await driver.poll()
        assert [e.order_ref for e in driver.orders()] == [order]
        assert await harness.faults_pending() == 0
        assert driver.alerts() == []

    async def test_a_shop_that_stays_down_costs_a_bounded_number_of_requests(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        order = await harness.place_order()
        await harness.fail_requests(503, times=1000)
        before = await harness.requests()
        await driver.poll()
        spent = await harness.requests() - before
        assert 0 < spent <= 2 * harness.max_attempts, spent
        assert driver.orders() == [] and driver.alerts() == []
        assert not (await driver.state()).broken
        await harness.clear_faults()
        await driver.poll()
        assert [e.order_ref for e in driver.orders()] == [order], "nothing lost"

    async def test_requests_stay_within_the_budget(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        # More orders than the budget: one poll must spread its requests over windows.
        orders = [await harness.place_order() for _ in range(harness.budget + 2)]
        await harness.limit_rate()
        await driver.poll()
        assert sorted(e.order_ref for e in driver.orders()) == sorted(orders)
        assert await harness.rate_limited() == 0

    async def test_replicas_publish_each_order_once(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        # Three processes: their own adapters (clients, budgets), the same stores. Each
        # hears of every order at once (webhooks, polls), so they read before any claims.
        replicas = [driver, *(driver.replica(harness.new_adapter()) for _ in range(2))]
        orders = [await harness.place_order() for _ in range(3)]
        driver.clock.tick(driver.policy.interval.total_seconds())
        await asyncio.gather(
            *(r.runtime.run_once() for r in replicas),
            *(r.sync(o) for o in orders for r in replicas),
        )
        assert _per_order(driver) == {(o, 1): 1 for o in orders}
        await harness.change_order(orders[0])
        await asyncio.gather(*(r.sync(orders[0]) for r in replicas))
        for replica in replicas:
            await replica.poll()
        assert _per_order(driver)[(orders[0], 2)] == 1
        assert len({e.event_id for e in driver.orders()}) == len(driver.orders())
        for replica in replicas[1:]:
            await replica.aclose()

    # ---- historic migration and the connection test ----------------------------------------

    async def test_a_historic_period_is_published_once_through_the_same_mapping(
        self, driver: Driver, harness: ShopHarness
    ) -> None:
        orders = [await harness.place_order(), await harness.place_order(bookable=False)]
        malformed = await harness.place_malformed_order()
        now = driver.clock()
        start, end = now - timedelta(days=1), now + timedelta(days=1)
        report = await driver.runtime.migrate(CONNECTION, start, end)
        assert report.orders == 3 and report.connection_usable
        assert [e.order_ref for e in driver.orders()] == [orders[0]], "bookable ones only"
        assert [f.source_order_id for f in await driver.failures()] == [malformed]
        await driver.runtime.migrate(CONNECTION, start, end)
        await driver.poll()
        assert len(driver.orders()) == 1, "a second run publishes nothing new"

    async def test_the_connection_test_lists_the_order_states(self, harness: ShopHarness) -> None:
        for language in Language:
            result = await harness.adapter.check_connection(harness.settings(), language)
            assert result.ok, result.message
            assert result.states and result.message
            assert any(s.bookable_by_default for s in result.states)
        stale = harness.settings()
        await harness.refuse_credentials()
        refused = await harness.adapter.check_connection(stale, Language.NL)
        assert refused.problem == "credentials_refused" and refused.suggestion

    async def test_the_connection_test_names_what_is_wrong_with_the_address(
        self, harness: ShopHarness
    ) -> None:
        settings = harness.settings()

        async def problem(url: str) -> str | None:
            result = await harness.adapter.check_connection(_at(settings, url), Language.NL)
            assert result.message and result.suggestion and not result.states
            return result.problem

        assert await problem(f"http://127.0.0.1:{free_port()}") == "unreachable"
        async with serve_tls(html_page_app()) as tls:
            assert await problem(tls.url) == "tls"
        async with serve(redirect_app()) as redirecting:
            assert await problem(redirecting) == "redirected"
        async with serve(html_page_app()) as website:
            assert await problem(website) == "not_the_shop_api"


class WebhookContract:
    """For shops with webhooks: realtime when signed right, refused when not, and an alarm
    when the signature check (of an undocumented scheme) is what fails."""

    @pytest.fixture
    async def live(self, harness: WebhookHarness) -> AsyncIterator[Driver]:
        driver = Driver(harness.adapter, box=harness.box)
        async with driver.serving_webhooks():
            await driver.connect(harness.settings())  # registers the webhooks
            yield driver
        await driver.aclose()

    async def test_a_signed_delivery_publishes_without_a_poll(
        self, live: Driver, harness: WebhookHarness
    ) -> None:
        order = await harness.place_order()

        async def published() -> bool:
            return len(live.orders()) > 0

        await eventually(published, timeout=20)
        await live.runtime.tasks.drain(5.0)
        assert [(e.order_ref, e.revision) for e in live.orders()] == [(order, 1)]

    async def test_a_delivery_without_a_valid_signature_is_refused(
        self, live: Driver, harness: WebhookHarness
    ) -> None:
        await harness.break_webhook_signatures()
        order = await harness.place_order()
        assert live.public_base_url is not None and live.adapter.webhooks is not None
        address = live.public_base_url + live.adapter.webhooks.route.format(
            connection_id=CONNECTION
        )
        async with httpx.AsyncClient() as http:
            answer = await http.post(address, content=harness.announcement(order))
        assert answer.status_code == 401
        await live.runtime.tasks.drain(5.0)
        assert live.orders() == []

    async def test_hostile_deliveries_are_refused_with_their_status_and_publish_nothing(
        self, live: Driver, harness: WebhookHarness
    ) -> None:
        order = await harness.place_order()

        async def delivered() -> bool:  # the shop's own, signed delivery first
            return len(live.orders()) == 1

        await eventually(delivered, timeout=20)
        await live.runtime.tasks.drain(5.0)
        published = len(live.orders())
        assert live.public_base_url is not None and live.adapter.webhooks is not None
        route = live.adapter.webhooks.route
        address = live.public_base_url + route.format(connection_id=CONNECTION)
        unknown = live.public_base_url + route.format(connection_id="no-such-connection")
        body = harness.announcement(order)
        async with httpx.AsyncClient() as http:
            assert (await http.post(unknown, content=body)).status_code == 404
            assert (await http.post(address, content=body)).status_code == 401, "unsigned"
            assert (await http.post(address, content=b"{not json")).status_code == 401
            huge = b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}"
            assert (await http.post(address, content=huge)).status_code == 413
        await live.runtime.tasks.drain(5.0)
        assert len(live.orders()) == published, "nothing published by any of them"

    async def test_signatures_that_keep_failing_while_the_poll_finds_the_orders_alert_once(
        self, live: Driver, harness: WebhookHarness
    ) -> None:
        await harness.break_webhook_signatures()
        threshold = live.policy.signature_threshold
        orders = [await harness.place_order() for _ in range(threshold)]
        started = time.monotonic()
        while len(await live.states.refused_orders(CONNECTION)) < threshold:
            assert time.monotonic() - started < 20, "the deliveries never arrived"
            await asyncio.sleep(0.1)
        assert live.orders() == [], "refused deliveries publish nothing"
        await live.poll()
        assert sorted(e.order_ref for e in live.orders()) == sorted(orders)
        [alert] = live.alerts()
        assert (alert.kind, alert.reason_code) == (
            AlertKind.PERSISTENT_FAILURE,
            "webhook_signature_unverified",
        )
        assert str(threshold) in alert.reason
        await harness.place_order()
        await live.poll()
        assert len(live.alerts()) == 1, "once per settings version"
