"""Passwords only in the keyring; without a working keyring a plain message, never a file."""

import keyring
import keyring.backends.fail
import pytest

from klezguard.errors import KeyringUnavailable
from klezguard.mail import credentials


def test_round_trip_and_delete(isolated_user_dirs):
    credentials.set_password("maya@bakery.example", "s3cret")
    assert isolated_user_dirs.items[("KlezGuard", "maya@bakery.example")] == "s3cret"
    assert credentials.get_password("maya@bakery.example") == "s3cret"
    credentials.delete_password("maya@bakery.example")
    credentials.delete_password("maya@bakery.example")  # deleting twice is fine
    assert credentials.get_password("maya@bakery.example") is None


def test_no_keyring_says_what_to_do(tmp_path):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with pytest.raises(KeyringUnavailable) as err:
        credentials.set_password("maya@bakery.example", "s3cret")
    assert "no working password store" in err.value.text()
    assert "KLEZGUARD_PASSWORD" in err.value.text()
    assert not any(tmp_path.rglob("*"))  # nothing was written anywhere instead
