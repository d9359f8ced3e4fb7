import pytest
from koppel_chassis import Sealer, SecretBox, SecretsKeyMissing, SecretUnreadable, generate_key


def test_round_trip_and_prefix() -> None:
    box = SecretBox(generate_key())
    sealed = box.encrypt("s3cret-api-key")
    assert sealed.startswith("enc:v1:")
    assert "s3cret" not in sealed
    assert box.decrypt(sealed).get_secret_value() == "s3cret-api-key"
    assert "s3cret" not in repr(box.decrypt(sealed))


def test_key_rotation_keeps_old_secrets_readable() -> None:
    old_key, new_key = generate_key(), generate_key()
    sealed_with_old = SecretBox(old_key).encrypt("pw")
    rotated_box = SecretBox(f"{new_key},{old_key}")
    assert rotated_box.decrypt(sealed_with_old).get_secret_value() == "pw"
    rotated = rotated_box.rotate(sealed_with_old)
    assert SecretBox(new_key).decrypt(rotated).get_secret_value() == "pw"


def test_wrong_key_and_plaintext_are_refused() -> None:
    sealed = SecretBox(generate_key()).encrypt("pw")
    with pytest.raises(SecretUnreadable):
        SecretBox(generate_key()).decrypt(sealed)
    with pytest.raises(SecretUnreadable):
        SecretBox(generate_key()).decrypt("pw")


def test_missing_key_says_how_to_fix() -> None:
    with pytest.raises(SecretsKeyMissing, match="KOPPEL_SECRETS_KEY"):
        SecretBox(None)


def test_each_system_gets_secrets_only_its_own_key_opens() -> None:
    """A key per system: ingest-ccv holds the CCV Shop key and cannot read an Octopus
    password; ledger-octopus the reverse. Whoever writes settings holds both."""
    ccv_key, octopus_key = generate_key(), generate_key()
    sealer = Sealer.from_keys(None, {"ccvshop": ccv_key, "octopus": octopus_key})
    data = {
        "shop": {"system": "ccvshop", "credentials": {"api_secret": "ccv-secret"}},
        "ledger": {
            "system": "octopus",
            "credentials": {
                "password": "octopus-pw",
                "already": sealer.box("octopus").encrypt("x"),
            },
        },
    }
    sealed = sealer.seal(data)
    shop_secret = sealed["shop"]["credentials"]["api_secret"]
    ledger_secret = sealed["ledger"]["credentials"]["password"]
    assert SecretBox(ccv_key).decrypt(shop_secret).get_secret_value() == "ccv-secret"
    assert SecretBox(octopus_key).decrypt(ledger_secret).get_secret_value() == "octopus-pw"
    with pytest.raises(SecretUnreadable):
        SecretBox(ccv_key).decrypt(ledger_secret)
    with pytest.raises(SecretUnreadable):
        SecretBox(octopus_key).decrypt(shop_secret)
    assert SecretBox(octopus_key).decrypt(sealed["ledger"]["credentials"]["already"])


def test_sftp_logins_take_the_ledger_key_and_a_default_covers_the_rest() -> None:
    platform, asperion = generate_key(), generate_key()
    sealer = Sealer.from_keys(platform, {"asperion": asperion})
    data = {
        "shop": {"system": "bol", "credentials": {"client_secret": "bol"}},
        "ledger": {
            "system": "asperion",
            "asperion": {"sftp": {"credentials": {"password": "sftp-pw"}}},
        },
    }
    sealed = sealer.seal(data)
    sftp = sealed["ledger"]["asperion"]["sftp"]["credentials"]["password"]
    assert SecretBox(asperion).decrypt(sftp).get_secret_value() == "sftp-pw"
    assert SecretBox(platform).decrypt(sealed["shop"]["credentials"]["client_secret"])
    with pytest.raises(SecretsKeyMissing, match="KOPPEL_SECRETS_KEYS"):
        Sealer.from_keys(None, {}).box("octopus")
