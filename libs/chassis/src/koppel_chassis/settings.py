"""Settings base every service extends.

Each service sets its own env prefix (``KOPPEL_LEDGER_OCTOPUS_`` ...), so one
ConfigMap can feed many services without their settings colliding. Secrets are
``SecretStr``: their repr is masked, so a logged settings object leaks nothing.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .secrets import Sealer


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_", extra="ignore")

    service_name: str = "koppel"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    mongodb_uri: SecretStr = SecretStr("mongodb://127.0.0.1:27017/")
    mongodb_database: str = ""
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name: isolates tests and tenants"
    )
    consumer_group_prefix: str = ""
    secrets_key: SecretStr | None = Field(
        default=None,
        description="Fernet key(s), comma-separated, newest first; see koppel_chassis.secrets",
    )
    secrets_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="For whoever writes settings (CLI, dashboard): a key per system "
        '(JSON, e.g. {"ccvshop": "...", "octopus": "..."}); systems without one use secrets_key',
    )

    def sealer(self) -> Sealer:
        return Sealer.from_keys(self.secrets_key, self.secrets_keys)

    http_host: str = "0.0.0.0"
    http_port: int = 8080
    log_level: str = "INFO"
    redelivery_delay_seconds: float = Field(
        default=1.0, description="Pause before a failed message is redelivered (infra outages)"
    )

    @property
    def database_name(self) -> str:
        return self.mongodb_database or self.service_name.replace("-", "_")

    def group_id(self, purpose: str = "main") -> str:
        return f"{self.consumer_group_prefix}{self.service_name}.{purpose}"
