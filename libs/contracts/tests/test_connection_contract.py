import pytest
from koppel_contracts import ConnectionSettings
from pydantic import ValidationError


def _settings(secret: str) -> dict:
    return {
        "merchant": {"name": "Koffie BV", "contact_email": "info@koffie.nl"},
        "shop": {
            "system": "ccvshop",
            "base_url": "https://koffie.ccvshop.nl",
            "account_id": "pub",
            "credentials": {"api_secret": secret},
        },
        "ledger": {"system": "octopus", "base_url": "https://service.inaras.be", "credentials": {}},
    }


def test_plaintext_credentials_cannot_be_published() -> None:
    with pytest.raises(ValidationError) as error:
        ConnectionSettings.model_validate(_settings("hunter2"))
    assert "shop.credentials.api_secret" in str(error.value)


def test_encrypted_credentials_and_defaults() -> None:
    settings = ConnectionSettings.model_validate(_settings("enc:v1:gAAAAABabc-_="))
    assert settings.mapping.trigger_statuses == ["paid"]
    assert str(settings.mapping.tolerance) == "0.05"
    assert settings.merchant.language == "nl"
