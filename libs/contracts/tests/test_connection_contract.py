from decimal import Decimal

import pytest
from koppel_contracts import (
    BookingMode,
    ConnectionSettings,
    ConnectionSettingsEvent,
    ConsumerDebtor,
)
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
    assert settings.shop.options.trigger_statuses == ["paid"]
    assert str(settings.ledger.booking.tolerance) == "0.05"
    assert settings.merchant.language == "nl"


def _v1(mapping: dict, ledger_system: str = "octopus") -> dict:
    data = _settings("enc:v1:gAAAAABabc-_=")
    data["ledger"]["system"] = ledger_system
    data["mapping"] = mapping
    return data


def test_a_version_1_mapping_is_read_into_the_typed_homes_of_version_2() -> None:
    settings = ConnectionSettings.model_validate(
        _v1(
            {
                "trigger_statuses": ["paid", "shipped"],
                "journal": "V3",
                "booking_mode": "financial",
                "debtor_matching": False,
                "tolerance": "0.10",
                "payment_method_debtors": {"bol": "1002"},
                "vat_accounts": [{"vat_rate": "21", "ledger_account": "700000", "vat_code": "21"}],
            }
        )
    )
    assert settings.mapping is None
    assert settings.shop.options.trigger_statuses == ["paid", "shipped"]
    assert settings.ledger.octopus is not None
    assert (settings.ledger.octopus.journal, settings.ledger.octopus.booking_mode) == (
        "V3",
        "financial",
    )
    booking = settings.ledger.booking
    assert booking.debtor_matching is False and str(booking.tolerance) == "0.10"
    assert booking.payment_method_debtors == {"bol": "1002"}
    assert [a.ledger_account for a in booking.vat_accounts] == ["700000"]


def test_version_2_settings_survive_a_round_trip_unchanged() -> None:
    first = ConnectionSettings.model_validate(_v1({"journal": "V3"}))
    again = ConnectionSettings.model_validate_json(first.model_dump_json())
    assert again == first


def test_each_ledger_gets_defaults_for_its_own_options_only() -> None:
    snelstart = ConnectionSettings.model_validate(_v1({}, ledger_system="snelstart"))
    assert snelstart.ledger.snelstart is not None and snelstart.ledger.octopus is None
    assert snelstart.ledger.snelstart.year_in_invoice_number is False


def test_options_for_another_ledger_are_refused() -> None:
    data = _settings("enc:v1:gAAAAABabc-_=")
    data["ledger"]["snelstart"] = {"year_in_invoice_number": True}
    with pytest.raises(ValidationError, match="snelstart options given for a octopus ledger"):
        ConnectionSettings.model_validate(data)


def test_new_settings_events_say_schema_version_2() -> None:
    settings = ConnectionSettings.model_validate(_settings("enc:v1:gAAAAABabc-_="))
    event = ConnectionSettingsEvent.of("c1", settings, 1)
    assert event.schema_version == 2
    assert "mapping" not in event.model_dump(exclude_none=True)["settings"]


def _bol(ledger: dict | None = None) -> dict:
    data = _settings("enc:v1:abc")
    data["shop"] = {
        "system": "bol",
        "base_url": "https://api.bol.com",
        "account_id": "client-id",
        "credentials": {"client_secret": "enc:v1:abc"},
        "options": {"vat_by_ean": {"8712345678906": "9"}},
    }
    if ledger:
        data["ledger"].update(ledger)
    return data


def test_bol_connections_default_to_a_collective_debtor_and_octopus_sales_bookings() -> None:
    settings = ConnectionSettings.model_validate(_bol())
    assert settings.ledger.booking.consumers == ConsumerDebtor.COLLECTIVE
    assert settings.ledger.octopus.booking_mode == BookingMode.SALES
    assert settings.shop.options.vat_by_ean == {"8712345678906": Decimal("9")}
    again = ConnectionSettings.model_validate_json(settings.model_dump_json())
    assert again == settings, "the chosen defaults are written out and read back the same"


def test_a_merchants_own_choice_for_bol_is_kept() -> None:
    chosen = _bol({"booking": {"consumers": "own"}, "octopus": {"booking_mode": "invoice"}})
    settings = ConnectionSettings.model_validate(chosen)
    assert settings.ledger.booking.consumers == ConsumerDebtor.OWN
    assert settings.ledger.octopus.booking_mode == BookingMode.INVOICE


def test_other_shops_keep_a_debtor_per_consumer_and_concept_invoices() -> None:
    settings = ConnectionSettings.model_validate(_settings("enc:v1:abc"))
    assert settings.ledger.booking.consumers == ConsumerDebtor.OWN
    assert settings.ledger.octopus.booking_mode == BookingMode.INVOICE
