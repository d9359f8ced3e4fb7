"""Secrets at rest and in transit: Fernet (AES-128-CBC + HMAC) with key rotation.

Ciphertexts carry the ``enc:v1:`` prefix the contracts insist on. The key is
given as one or more comma-separated Fernet keys, newest first: new secrets are
encrypted with the first, old ones still decrypt with any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from koppel_contracts import ENCRYPTED_PREFIX
from pydantic import SecretStr


class SecretsKeyMissing(RuntimeError):
    pass


class SecretUnreadable(ValueError):
    """The ciphertext was not made with any configured key (or was altered)."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


class SecretBox:
    def __init__(self, keys: str | SecretStr | None) -> None:
        raw = keys.get_secret_value() if isinstance(keys, SecretStr) else keys
        if not raw:
            raise SecretsKeyMissing(
                "no secrets key configured: set KOPPEL_SECRETS_KEY (make one with `koppel keygen`)"
            )
        self._fernet = MultiFernet(
            [Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()]
        )

    def encrypt(self, plaintext: str) -> str:
        return ENCRYPTED_PREFIX + self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> SecretStr:
        if not ciphertext.startswith(ENCRYPTED_PREFIX):
            raise SecretUnreadable("not an encrypted secret (missing enc:v1: prefix)")
        try:
            value = self._fernet.decrypt(ciphertext.removeprefix(ENCRYPTED_PREFIX).encode())
        except InvalidToken:
            raise SecretUnreadable("secret does not decrypt with the configured key") from None
        return SecretStr(value.decode())

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the newest key (for a key rotation job)."""
        token = ciphertext.removeprefix(ENCRYPTED_PREFIX).encode()
        return ENCRYPTED_PREFIX + self._fernet.rotate(token).decode()

    @staticmethod
    def is_encrypted(value: str) -> bool:
        return value.startswith(ENCRYPTED_PREFIX)


class Sealer:
    """Encrypts a connection's credentials, each with the key of the system that reads them.

    A service is given only the key(s) of the systems it talks to (ingest-ccv the CCV Shop
    key, ledger-octopus the Octopus key), so a leaked service environment opens one
    system's credentials, not every merchant's every login. Whoever writes settings (the
    CLI, the dashboard) holds the keys of all systems: `keys` maps a system name (`ccvshop`,
    `octopus`, ...) to its key(s); a system without its own key uses `default` (one
    platform key, as before: both layouts decrypt the same way in the services, since a
    service simply holds the key its system's secrets were made with).
    """

    def __init__(self, default: SecretBox | None, boxes: Mapping[str, SecretBox] | None = None):
        self.default = default
        self.boxes = dict(boxes or {})

    @classmethod
    def from_keys(
        cls, default: str | SecretStr | None, keys: Mapping[str, str | SecretStr] | None = None
    ) -> Sealer:
        raw = default.get_secret_value() if isinstance(default, SecretStr) else default
        boxes = {system: SecretBox(key) for system, key in (keys or {}).items()}
        return cls(SecretBox(raw) if raw else None, boxes)

    def box(self, system: str) -> SecretBox:
        found = self.boxes.get(system) or self.default
        if found is None:
            raise SecretsKeyMissing(
                f"no secrets key for {system or 'this system'}: set KOPPEL_SECRETS_KEYS (a key "
                "per system) or KOPPEL_SECRETS_KEY (make one with `koppel keygen`)"
            )
        return found

    def seal(self, data: dict[str, Any]) -> dict[str, Any]:
        """Connection settings as plain data, with every plaintext credential encrypted
        (in place): `shop.credentials` with the shop's key, `ledger.credentials` and the
        ledger's own option credentials (Asperion's SFTP login) with the ledger's key."""
        shop = data.get("shop") or {}
        ledger = data.get("ledger") or {}
        places = [(shop.get("credentials"), str(shop.get("system") or ""))]
        ledger_system = str(ledger.get("system") or "")
        places.append((ledger.get("credentials"), ledger_system))
        sftp = ((ledger.get("asperion") or {}).get("sftp") or {}) if ledger else {}
        places.append((sftp.get("credentials"), ledger_system))
        for credentials, system in places:
            for name, value in list((credentials or {}).items()):
                text = "" if value is None else str(value)
                if not SecretBox.is_encrypted(text):
                    credentials[name] = self.box(system).encrypt(text)
        return data
