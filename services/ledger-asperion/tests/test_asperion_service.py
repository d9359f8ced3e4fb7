"""The service as it runs: orders from Kafka become documents, the control route makes the
delivery on request, the merchant gets the mail, and the operator CLI lists, downloads,
makes and re-sends deliveries — against the real broker, database and a real port."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import httpx
from koppel_cli.main import app as cli
from koppel_contracts import CONNECTIONS, SHOP_ORDERS
from koppel_ledger_asperion import LedgerAsperionSettings, build
from koppel_sandbox_kit import serve
from koppel_testkit import eventually, make_order, make_order_event, publish_raw
from typer.testing import CliRunner

from .asperion_helpers import CONNECTION, demo_settings, settings_event

TOKEN = "operator-token-for-tests"


async def test_orders_to_a_delivery_on_request_mailed_and_seen_by_the_cli(
    make_settings, kafka_bootstrap, kafka_topics, smtp, tmp_path: Path
) -> None:
    settings: LedgerAsperionSettings = make_settings(
        LedgerAsperionSettings,
        service_name="ledger-asperion",
        operator_token=TOKEN,
        smtp_port=smtp.port,
        scheduler_interval_seconds=0.2,
        delivery_check_seconds=3600,  # the daily pass runs once at start: nothing due yet
    )
    service = build(settings)
    connection = settings_event(demo_settings(), 1, CONNECTION)
    async with serve(service.asgi()) as url:
        await publish_raw(
            kafka_bootstrap,
            kafka_topics[CONNECTIONS.name],
            connection.model_dump_json().encode(),
            CONNECTION.encode(),
        )
        for ref in ("s1", "s2"):
            order = make_order_event(make_order(order_id=ref), connection_id=CONNECTION)
            await publish_raw(
                kafka_bootstrap,
                kafka_topics[SHOP_ORDERS.name],
                order.model_dump_json().encode(),
                f"{CONNECTION}:{ref}".encode(),
            )

        async def booked() -> bool:
            found = service.db["orders"].find({"state": "verified"})
            return len([d async for d in found]) == 2

        await eventually(booked, timeout=30)

        async with httpx.AsyncClient(base_url=url) as http:
            refused = await http.post(f"/deliveries/{CONNECTION}")
            assert refused.status_code == 401
            unknown = await http.post(
                "/deliveries/nobody", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert unknown.status_code == 404

        env = {
            "KOPPEL_MONGODB_URI": settings.mongodb_uri.get_secret_value(),
            "KOPPEL_MONGODB_DATABASE": settings.database_name,
            "KOPPEL_ASPERION_URL": url,
            "KOPPEL_ASPERION_OPERATOR_TOKEN": TOKEN,
        }

        async def koppel(*args: str):
            result = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)
            assert result.exit_code == 0, result.output
            return result.output

        made = await koppel("asperion", "deliveries", "make", CONNECTION)
        delivery_id = made.split(":")[0]
        assert "2 document(s)" in made and delivery_id.startswith(f"{CONNECTION}/")
        assert "nothing to deliver" in await koppel("asperion", "deliveries", "make", CONNECTION)

        [mail] = await smtp.wait_for(1)
        [attachment] = list(mail.message.iter_attachments())
        sealed = attachment.get_content()

        listed = await koppel("asperion", "deliveries", "list", CONNECTION)
        assert delivery_id in listed and "koffie-co_" in listed
        target = tmp_path / "levering.zip"
        await koppel("asperion", "deliveries", "download", delivery_id, "-o", str(target))
        assert target.read_bytes() == sealed

        await koppel("asperion", "deliveries", "resend", delivery_id)
        _, again = await smtp.wait_for(2)
        resent = next(again.message.iter_attachments()).get_content()
        assert hashlib.sha256(resent).digest() == hashlib.sha256(sealed).digest()
