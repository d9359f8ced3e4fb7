"""The whole system as separate processes: sandboxes (three CCV shops, a PrestaShop shop, a
Bol.com seller account, Octopus, SnelStart), SMTP catcher, ingest-ccv, ingest-prestashop,
ingest-bol, ledger-octopus, ledger-snelstart, ledger-asperion, notifier and the dashboard,
wired to one Kafka and one MongoDB-compatible server.

Used by `python -m koppel_demo` (the README's run command) and by the
end-to-end test, which gives every run its own topic prefix, consumer groups
and databases so it can share a broker with a running demo.
"""

from __future__ import annotations

import asyncio
import json

from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis.topic_admin import ensure_topics, plan_topics
from koppel_sandbox_snelstart import DEMO as SNELSTART_DEMO
from pymongo import AsyncMongoClient

from .config import DEMO_SHOP_LINKS, Ports, SystemConfig, database_prefix, service_process
from .processes import ManagedProcess, ProcessGroup, python_module

# The names other modules import from here (the private ones for callers of old).
__all__ = [
    "Ports",
    "SystemConfig",
    "create_topics",
    "database_prefix",
    "forget_previous_run",
    "sandbox_process",
    "service_process",
    "start_system",
]


async def forget_previous_run(config: SystemConfig) -> None:
    """Delete the run's topics and databases left by an earlier run.

    The sandboxes keep their data in memory and start empty; Koppel's own state must
    start empty too, or it would remember orders and invoices the sandboxes forgot.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(config.isolation)]
        if ours:
            await admin.delete_topics(ours)
        for _ in range(100):  # deletion is asynchronous; creating too early fails
            if not set(ours) & set(await admin.list_topics()):
                break
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(config.mongodb_uri)
    try:
        for name in await client.list_database_names():
            if name.startswith(database_prefix(config)):
                await client.drop_database(name)
    finally:
        await client.close()


async def create_topics(config: SystemConfig) -> None:
    specs = plan_topics(partitions=3, replication_factor=1, prefix=config.isolation)
    await ensure_topics(config.kafka_bootstrap, specs)


def start_system(config: SystemConfig) -> ProcessGroup:
    """Start every part in dependency order; each is ready before the next starts.
    Topics must exist first (`create_topics`)."""
    p = config.ports
    group = ProcessGroup()
    try:
        smtp_port = config.smtp_port
        if smtp_port is None:
            smtp_port = p.smtp
            group.start(
                ManagedProcess(
                    "mailcatcher",
                    python_module(
                        "koppel_demo.mailcatcher",
                        "--port",
                        str(p.smtp),
                        "--folder",
                        str(config.mail_dir),
                    ),
                    {},
                    config.log_dir / "mailcatcher.log",
                    ready_port=p.smtp,
                )
            )
        for name, port, key, secret in (
            ("ccvshop-sandbox", p.ccvshop, config.ccv_public_key, config.ccv_secret),
            (
                "ccvshop-tea-sandbox",
                p.ccvshop_tea,
                config.ccv_tea_public_key,
                config.ccv_tea_secret,
            ),
            (
                "ccvshop-chocolate-sandbox",
                p.ccvshop_asperion,
                config.ccv_asperion_public_key,
                config.ccv_asperion_secret,
            ),
        ):
            group.start(
                sandbox_process(
                    config,
                    name,
                    "koppel_sandbox_ccvshop",
                    port,
                    "--public-key",
                    key,
                    "--secret",
                    secret,
                )
            )
        group.start(
            sandbox_process(
                config, "octopus-sandbox", "koppel_sandbox_octopus", p.octopus, "--quota", "0"
            )
        )
        group.start(
            sandbox_process(config, "snelstart-sandbox", "koppel_sandbox_snelstart", p.snelstart)
        )
        group.start(
            service_process(
                config,
                "ingest-ccv",
                "KOPPEL_INGEST_CCV_",
                p.ingest_ccv,
                public_base_url=config.url(p.ingest_ccv),
                reconcile_interval_seconds=config.reconcile_interval_seconds,
            )
        )
        group.start(
            service_process(
                config,
                "ledger-octopus",
                "KOPPEL_LEDGER_OCTOPUS_",
                p.ledger_octopus,
                retry_initial_seconds=config.ledger_retry_initial_seconds,
            )
        )
        group.start(
            service_process(
                config,
                "ledger-snelstart",
                "KOPPEL_LEDGER_SNELSTART_",
                p.ledger_snelstart,
                retry_initial_seconds=config.ledger_retry_initial_seconds,
                subscription_key=SNELSTART_DEMO.subscription_key,
                requests_per_minute=config.snelstart_requests_per_minute,
            )
        )
        group.start(ledger_asperion(config, smtp_port))
        start_prestashop(config, group)
        start_bol(config, group)
        group.start(
            service_process(
                config,
                "notifier",
                "KOPPEL_NOTIFIER_",
                p.notifier,
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_starttls="false",
                grouping_window_seconds=config.grouping_window_seconds,
                poll_interval_seconds=1,
                # Every mail links to the order or connection in the dashboard.
                dashboard_url=config.url(p.dashboard),
            )
        )
        if config.dashboard:
            group.start(dashboard(config, smtp_port))
    except BaseException:
        group.stop_all()
        raise
    return group


def ledger_asperion(config: SystemConfig, smtp_port: int) -> ManagedProcess:
    """ledger-asperion: its deliveries are mailed through the demo's SMTP server (no TLS
    there), and its control routes answer the demo's operator token."""
    return service_process(
        config,
        "ledger-asperion",
        "KOPPEL_LEDGER_ASPERION_",
        config.ports.ledger_asperion,
        retry_initial_seconds=config.ledger_retry_initial_seconds,
        operator_token=config.asperion_operator_token,
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_starttls="false",
        # A mail that could not be sent is tried again soon, not after a minute.
        send_retry_initial_seconds=config.ledger_retry_initial_seconds,
    )


def sandbox_process(
    config: SystemConfig, name: str, module: str, port: int, *args: str
) -> ManagedProcess:
    """A vendor sandbox as a process on `port`, ready once its control API answers (the
    CCV Shop, PrestaShop and Bol.com sandboxes at /_control/config, the ledgers' at
    /_control/identity)."""
    ledger = module in ("koppel_sandbox_octopus", "koppel_sandbox_snelstart")
    ready = "/_control/identity" if ledger else "/_control/config"
    return ManagedProcess(
        name,
        python_module(module, "--port", str(port), *args),
        {},
        config.log_dir / f"{name}.log",
        ready_url=f"{config.url(port)}{ready}",
    )


def start_prestashop(config: SystemConfig, group: ProcessGroup) -> None:
    """The PrestaShop merchant's shop (the sandbox's demo shop, with its demo webservice key
    and four orders placed at its start) and ingest-prestashop, which polls it."""
    port = config.ports.prestashop
    group.start(sandbox_process(config, "prestashop-sandbox", "koppel_sandbox_prestashop", port))
    group.start(
        service_process(
            config,
            "ingest-prestashop",
            "KOPPEL_INGEST_PRESTASHOP_",
            config.ports.ingest_prestashop,
            poll_interval_seconds=config.prestashop_poll_interval_seconds,
        )
    )


def start_bol(config: SystemConfig, group: ProcessGroup) -> None:
    """The Bol.com merchant's seller account (the sandbox's demo retailer) and ingest-bol,
    which polls it and answers business buyers' invoice requests."""
    port = config.ports.bol
    group.start(sandbox_process(config, "bol-sandbox", "koppel_sandbox_bol", port))
    group.start(
        service_process(
            config,
            "ingest-bol",
            "KOPPEL_INGEST_BOL_",
            config.ports.ingest_bol,
            poll_interval_seconds=config.bol_poll_interval_seconds,
            invoice_interval_seconds=config.bol_invoice_interval_seconds,
        )
    )


def dashboard(config: SystemConfig, smtp_port: int) -> ManagedProcess:
    """The merchant dashboard on plain http (no Secure cookies on localhost); support cases
    are mailed through the run's SMTP server."""
    url = config.url(config.ports.dashboard)
    return service_process(
        config,
        "dashboard",
        "KOPPEL_DASHBOARD_",
        config.ports.dashboard,
        cookie_secret=config.dashboard_cookie_secret,
        secure_cookies="false",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_starttls="false",
        support_email=config.support_email,
        public_base_url=url,
        # A case mail the SMTP server refused is tried again soon, not after a minute.
        mail_retry_seconds=config.ledger_retry_initial_seconds,
        mail_poll_seconds=1,
        shop_links=json.dumps(DEMO_SHOP_LINKS),
    )
