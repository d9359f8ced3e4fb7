"""The whole system as separate processes: sandboxes (three CCV shops, a PrestaShop shop,
Octopus, SnelStart), SMTP catcher, ingest-ccv, ingest-prestashop, ledger-octopus,
ledger-snelstart, ledger-asperion and notifier, wired to one Kafka and one MongoDB-compatible
server.

Used by `python -m koppel_demo` (the README's run command) and by the
end-to-end test, which gives every run its own topic prefix, consumer groups
and databases so it can share a broker with a running demo.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis.topic_admin import ensure_topics, plan_topics
from koppel_sandbox_snelstart import DEMO as SNELSTART_DEMO
from pymongo import AsyncMongoClient

from .processes import ManagedProcess, ProcessGroup, python_module, service_env


@dataclass
class Ports:
    ccvshop: int = 8101  # the coffee roaster's shop (books in Octopus)
    octopus: int = 8102
    snelstart: int = 8103
    ccvshop_tea: int = 8104  # the tea shop (books in SnelStart)
    ccvshop_asperion: int = 8105  # the chocolatier (UBL files for Asperion)
    prestashop: int = 8106  # the PrestaShop merchant's shop (books in Octopus)
    smtp: int = 1025
    ingest_ccv: int = 8201
    ledger_octopus: int = 8202
    notifier: int = 8203
    ledger_snelstart: int = 8204
    ledger_asperion: int = 8205
    ingest_prestashop: int = 8206

    @classmethod
    def free(cls) -> Ports:
        from koppel_sandbox_kit import free_port

        return cls(**{f.name: free_port() for f in fields(cls)})


@dataclass
class SystemConfig:
    kafka_bootstrap: str
    mongodb_uri: str
    secrets_key: str
    log_dir: Path
    mail_dir: Path
    ports: Ports = field(default_factory=Ports)
    isolation: str = ""  # topic prefix, consumer-group prefix and database prefix in one
    smtp_port: int | None = None  # an external SMTP server (tests); None = start the catcher
    ccv_public_key: str = "demo-public-key"
    ccv_secret: str = "demo-secret-0123456789"
    ccv_tea_public_key: str = "demo-tea-public-key"
    ccv_tea_secret: str = "demo-tea-secret-0123456789"
    ccv_asperion_public_key: str = "demo-chocolate-public-key"
    ccv_asperion_secret: str = "demo-chocolate-secret-0123456789"
    # ledger-asperion's control routes (make or re-send a delivery) answer this bearer token.
    asperion_operator_token: str = "demo-asperion-operator-token"
    # Demo pace: short windows so a person sees results within seconds.
    reconcile_interval_seconds: float = 30.0
    grouping_window_seconds: float = 5.0
    ledger_retry_initial_seconds: float = 2.0
    # SnelStart's test tier: 100 calls a minute per administration (the sandbox's default).
    snelstart_requests_per_minute: float = 100.0
    # PrestaShop has no webhooks: ingest-prestashop polls (300 s in production).
    prestashop_poll_interval_seconds: float = 3.0

    @classmethod
    def isolated(
        cls, kafka_bootstrap: str, mongodb_uri: str, folder: Path, name: str, **overrides: Any
    ) -> SystemConfig:
        """A run that shares the broker and database with anything else: free ports, a fresh
        secrets key, and its own prefix for topics, consumer groups and databases."""
        from koppel_chassis import generate_key

        values: dict[str, Any] = {
            "kafka_bootstrap": kafka_bootstrap,
            "mongodb_uri": mongodb_uri,
            "secrets_key": generate_key(),
            "log_dir": folder / "logs",
            "mail_dir": folder / "mail",
            "ports": Ports.free(),
            "isolation": f"{name}{uuid.uuid4().hex[:8]}.",
        }
        values.update(overrides)
        return cls(**values)

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"


def _service(
    config: SystemConfig, name: str, prefix: str, port: int, **extra: object
) -> ManagedProcess:
    database = f"{_database_prefix(config)}{name.replace('-', '_')}"
    env = service_env(
        prefix,
        {
            "kafka_bootstrap_servers": config.kafka_bootstrap,
            "mongodb_uri": config.mongodb_uri,
            "mongodb_database": database,
            "secrets_key": config.secrets_key,
            "topic_prefix": config.isolation,
            "consumer_group_prefix": config.isolation,
            "http_host": "127.0.0.1",
            "http_port": port,
            **extra,
        },
    )
    module = "koppel_" + name.replace("-", "_")
    return ManagedProcess(
        name,
        python_module(module),
        env,
        config.log_dir / f"{name}.log",
        ready_url=f"{config.url(port)}/readyz",
    )


def _database_prefix(config: SystemConfig) -> str:
    return config.isolation.replace(".", "_").replace("-", "_")


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
            if name.startswith(_database_prefix(config)):
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
                ManagedProcess(
                    name,
                    python_module(
                        "koppel_sandbox_ccvshop",
                        "--port",
                        str(port),
                        "--public-key",
                        key,
                        "--secret",
                        secret,
                    ),
                    {},
                    config.log_dir / f"{name}.log",
                    ready_url=f"{config.url(port)}/_control/config",
                )
            )
        group.start(
            ManagedProcess(
                "octopus-sandbox",
                python_module("koppel_sandbox_octopus", "--port", str(p.octopus), "--quota", "0"),
                {},
                config.log_dir / "octopus-sandbox.log",
                ready_url=f"{config.url(p.octopus)}/_control/identity",
            )
        )
        group.start(
            ManagedProcess(
                "snelstart-sandbox",
                python_module("koppel_sandbox_snelstart", "--port", str(p.snelstart)),
                {},
                config.log_dir / "snelstart-sandbox.log",
                ready_url=f"{config.url(p.snelstart)}/_control/identity",
            )
        )
        group.start(
            _service(
                config,
                "ingest-ccv",
                "KOPPEL_INGEST_CCV_",
                p.ingest_ccv,
                public_base_url=config.url(p.ingest_ccv),
                reconcile_interval_seconds=config.reconcile_interval_seconds,
            )
        )
        group.start(
            _service(
                config,
                "ledger-octopus",
                "KOPPEL_LEDGER_OCTOPUS_",
                p.ledger_octopus,
                retry_initial_seconds=config.ledger_retry_initial_seconds,
            )
        )
        group.start(
            _service(
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
        group.start(
            _service(
                config,
                "notifier",
                "KOPPEL_NOTIFIER_",
                p.notifier,
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_starttls="false",
                grouping_window_seconds=config.grouping_window_seconds,
                poll_interval_seconds=1,
            )
        )
    except BaseException:
        group.stop_all()
        raise
    return group


def ledger_asperion(config: SystemConfig, smtp_port: int) -> ManagedProcess:
    """ledger-asperion: its deliveries are mailed through the demo's SMTP server (no TLS
    there), and its control routes answer the demo's operator token."""
    return _service(
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


def start_prestashop(config: SystemConfig, group: ProcessGroup) -> None:
    """The PrestaShop merchant's shop (the sandbox's demo shop, with its demo webservice key
    and four orders placed at its start) and ingest-prestashop, which polls it."""
    port = config.ports.prestashop
    group.start(
        ManagedProcess(
            "prestashop-sandbox",
            python_module("koppel_sandbox_prestashop", "--port", str(port)),
            {},
            config.log_dir / "prestashop-sandbox.log",
            ready_url=f"{config.url(port)}/_control/config",
        )
    )
    group.start(
        _service(
            config,
            "ingest-prestashop",
            "KOPPEL_INGEST_PRESTASHOP_",
            config.ports.ingest_prestashop,
            poll_interval_seconds=config.prestashop_poll_interval_seconds,
        )
    )
