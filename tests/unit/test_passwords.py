from core.auth.passwords import hash_password, password_problem, verify_password


def test_argon2id_hash_round_trip():
    hashed = hash_password("a perfectly long passphrase")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a perfectly long passphrase")
    assert not verify_password(hashed, "a perfectly long passphrasE")


def test_missing_hash_never_verifies():
    assert not verify_password(None, "anything at all here")


def test_length_rules():
    assert password_problem("short-pass1") == "Password must be at least 12 characters long"
    assert password_problem("x" * 257) == "Password must be 256 characters or fewer"


def test_common_passwords_and_their_obvious_variants_are_refused():
    for weak in [
        "qwerty123456",
        "1qaz2wsx3edc",
        "password1234",
        "Password!!!!",
        "iloveyou2024",
        "passwordpassword",
        "aaaaaaaaaaaaaaaa",
        "abababababab",
    ]:
        assert password_problem(weak) is not None, weak


def test_no_composition_rules():
    for fine in ["purple lantern orbit", "correct-horse-battery-staple-7", "all lower case words here"]:
        assert password_problem(fine) is None, fine
