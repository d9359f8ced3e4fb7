"""Where every part of the system listens and how it is set up: the demo's fixed ports, or
free ones and a prefix of its own for a run that shares the broker and database (the
end-to-end test, the benchmark). And how a Koppel service becomes a process."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .processes import ManagedProcess, python_module, service_env


@dataclass
class Ports:
    ccvshop: int = 8101  # the coffee roaster's shop (books in Octopus)
    octopus: int = 8102
    snelstart: int = 8103
    ccvshop_tea: int = 8104  # the tea shop (books in SnelStart)
    ccvshop_asperion: int = 8105  # the chocolatier (UBL files for Asperion)
    prestashop: int = 8106  # the PrestaShop merchant's shop (books in Octopus)
    bol: int = 8107  # the Bol.com merchant's seller account (books in Octopus)
    smtp: int = 1025
    ingest_ccv: int = 8201
    ledger_octopus: int = 8202
    notifier: int = 8203
    ledger_snelstart: int = 8204
    ledger_asperion: int = 8205
    ingest_prestashop: int = 8206
    ingest_bol: int = 8207
    dashboard: int = 8300  # where the notifier's mails link to by default

    @classmethod
    def free(cls) -> Ports:
        from koppel_sandbox_kit import free_port

        return cls(**{f.name: free_port() for f in fields(cls)})


# Links from the dashboard's order timeline into the shop. No vendor documents its
# back-office addresses, so these point at what the sandboxes serve: CCV's order resource,
# PrestaShop's webservice order, and the Bol.com sandbox's control view of the order (the
# Retailer API needs a token a browser does not have).
DEMO_SHOP_LINKS = {
    "ccvshop": "{base_url}/api/rest/v1/orders/{order_id}",
    "prestashop": "{base_url}/api/orders/{order_id}",
    "bol": "{base_url}/_control/accounts/default/orders/{order_id}",
}


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
    # Bol.com has no webhooks either: ingest-bol polls (300 s in production), and answers
    # business buyers' invoice requests every so often (300 s in production).
    bol_poll_interval_seconds: float = 3.0
    bol_invoice_interval_seconds: float = 5.0
    # The merchant dashboard. Off for the benchmark, which measures the booking path alone.
    dashboard: bool = True
    dashboard_cookie_secret: str = "demo-dashboard-cookie-secret-0123456789abcdef"
    support_email: str = "support@koppel-demo.nl"  # where "Meld probleem" goes

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

    @property
    def mail_port(self) -> int:
        """Where the services send mail: the test's SMTP server, else the demo's catcher."""
        return self.ports.smtp if self.smtp_port is None else self.smtp_port


def database_prefix(config: SystemConfig) -> str:
    """The prefix of every database of the run (`demo_`, `e2e1a2b3c4d_`)."""
    return config.isolation.replace(".", "_").replace("-", "_")


def service_process(
    config: SystemConfig, name: str, prefix: str, port: int, **extra: object
) -> ManagedProcess:
    """Koppel service `name` (`ledger-octopus`: module `koppel_ledger_octopus`) as a process
    on the run's broker, database, key and prefixes; `extra` are its own settings
    (`retry_initial_seconds=2` -> `<prefix>RETRY_INITIAL_SECONDS=2`)."""
    database = f"{database_prefix(config)}{name.replace('-', '_')}"
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
