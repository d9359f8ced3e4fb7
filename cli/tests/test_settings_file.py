from pathlib import Path

import pytest
from koppel_chassis import Sealer, SecretBox, SecretUnreadable, generate_key
from koppel_cli.settings_file import SettingsFileError, load_connection_file, masked

EXAMPLE = Path(__file__).parents[1] / "examples" / "connection.example.yaml"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(generate_key())


def test_example_file_is_valid_and_its_secrets_get_encrypted(box: SecretBox) -> None:
    loaded = load_connection_file(EXAMPLE, box)
    assert loaded.connection_id == "koffie-ccv-octopus"
    sealed = loaded.settings.ledger.credentials["password"]
    assert sealed.startswith("enc:v1:")
    assert box.decrypt(sealed).get_secret_value() == "replace-with-the-octopus-password"
    shown = masked(loaded.settings)
    assert shown["ledger"]["credentials"]["password"] == "********"
    assert "replace-with" not in str(shown)


def test_a_bad_field_is_named_with_its_line(tmp_path: Path, box: SecretBox) -> None:
    text = EXAMPLE.read_text().replace(
        "contact_email: boekhouding@deboon.nl", "contact_email: nope"
    )
    broken = tmp_path / "c.yaml"
    broken.write_text(text)
    line = text.splitlines().index("  contact_email: nope") + 1
    with pytest.raises(SettingsFileError) as error:
        load_connection_file(broken, box)
    assert f"line {line}: field 'merchant.contact_email'" in str(error.value)


def test_a_bad_list_item_is_named_with_its_line(tmp_path: Path, box: SecretBox) -> None:
    text = EXAMPLE.read_text().replace('vat_rate: "9"', 'vat_rate: "negen"')
    broken = tmp_path / "c.yaml"
    broken.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "negen" in t)
    with pytest.raises(SettingsFileError) as error:
        load_connection_file(broken, box)
    assert f"line {line}: field 'ledger.booking.vat_accounts.1.vat_rate'" in str(error.value)


def test_a_missing_section_is_reported(tmp_path: Path, box: SecretBox) -> None:
    broken = tmp_path / "c.yaml"
    broken.write_text("connection_id: x\nmerchant: {name: a, contact_email: a@b.nl}\n")
    with pytest.raises(SettingsFileError) as error:
        load_connection_file(broken, box)
    assert "field 'shop': Field required" in str(error.value)
    assert "field 'ledger': Field required" in str(error.value)


def test_yaml_syntax_errors_name_the_line(tmp_path: Path, box: SecretBox) -> None:
    broken = tmp_path / "c.yaml"
    broken.write_text("connection_id: x\nmerchant:\n  name: [unclosed\n")
    with pytest.raises(SettingsFileError, match=r"line \d+: not valid YAML"):
        load_connection_file(broken, box)


def test_with_a_key_per_system_each_side_is_sealed_with_its_own(tmp_path: Path) -> None:
    ccv_key, octopus_key = generate_key(), generate_key()
    loaded = load_connection_file(
        EXAMPLE, Sealer.from_keys(None, {"ccvshop": ccv_key, "octopus": octopus_key})
    )
    shop = loaded.settings.shop.credentials["api_secret"]
    ledger = loaded.settings.ledger.credentials["password"]
    assert SecretBox(octopus_key).decrypt(ledger).get_secret_value().startswith("replace-with")
    assert SecretBox(ccv_key).decrypt(shop)
    with pytest.raises(SecretUnreadable):
        SecretBox(ccv_key).decrypt(ledger)
