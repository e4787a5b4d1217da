import pytest
from cryptography.fernet import Fernet

from onboarding import crypto

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_a_secret_round_trips_and_is_not_stored_in_plaintext(settings):
    settings.CAIRN_FERNET_KEYS = [NEW]
    token = crypto.encrypt("AIzaSyExampleExampleExampleExample12345")
    assert "AIzaSy" not in token
    assert crypto.decrypt(token) == "AIzaSyExampleExampleExampleExample12345"


def test_an_old_key_still_decrypts_after_rotation_and_rotate_moves_to_the_newest(settings):
    settings.CAIRN_FERNET_KEYS = [OLD]
    token = crypto.encrypt("secret-value-123456")
    settings.CAIRN_FERNET_KEYS = [NEW, OLD]
    assert crypto.decrypt(token) == "secret-value-123456"
    assert not crypto.is_primary(token)
    rotated = crypto.rotate(token)
    assert crypto.is_primary(rotated)
    settings.CAIRN_FERNET_KEYS = [NEW]
    assert crypto.decrypt(rotated) == "secret-value-123456"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token)


def test_without_configured_keys_a_key_derived_from_secret_key_is_used(settings):
    settings.CAIRN_FERNET_KEYS = []
    token = crypto.encrypt("x" * 20)
    assert crypto.decrypt(token) == "x" * 20
    settings.SECRET_KEY = "another secret key entirely"
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(token)


@pytest.mark.parametrize(
    ("secret", "masked"),
    [
        ("AIzaSyABCDEFGHIJKLMNOP9x2Q", "AIza…9x2Q"),
        ("fa4efa4e-e86a-4f31-85f4-1e1c6956af5d", "fa4e…af5d"),
        ("short", "…"),
    ],
)
def test_mask_shows_four_characters_each_side_and_never_a_short_secret(secret, masked):
    assert crypto.mask(secret) == masked
