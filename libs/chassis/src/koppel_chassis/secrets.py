"""Secrets at rest and in transit: Fernet (AES-128-CBC + HMAC) with key rotation.

Ciphertexts carry the ``enc:v1:`` prefix the contracts insist on. The key is
given as one or more comma-separated Fernet keys, newest first: new secrets are
encrypted with the first, old ones still decrypt with any.
"""

from __future__ import annotations

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
