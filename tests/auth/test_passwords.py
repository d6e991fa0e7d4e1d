import pytest

from lms.auth.passwords import hash_password, password_problem, verify_password


@pytest.mark.parametrize("password, problem", [
    ("short1", "at least 8"),
    ("password123", "too common"),
    ("qwertyuiop", "too common"),
    ("aaaaaaaaaaaa", "too common"),
    ("karimov-2026!", "your name"),
    ("x" * 129, "at most"),
])
def test_refused_passwords(app, password, problem):
    message = password_problem(password, "aziz@example.test", "Aziz Karimov", "JDU26001")
    assert message and problem in message


def test_good_password_is_accepted_and_hashed_with_scrypt(app):
    assert password_problem("tulips in Samarkand", "aziz@example.test", "Aziz Karimov") is None
    hashed = hash_password("tulips in Samarkand")
    assert hashed.startswith("scrypt:")
    assert verify_password(hashed, "tulips in Samarkand")
    assert not verify_password(hashed, "tulips in samarkand")
    assert not verify_password(None, "anything")
