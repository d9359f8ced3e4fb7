import pytest
from koppel_chassis import SecretBox, SecretsKeyMissing, SecretUnreadable, generate_key


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
