import pytest
from django import forms

from accounts.forms import SignUpForm, validate_new_username
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough passphrase"
CHARACTER_RULE = "A name may use letters, digits, spaces and . - _ ' only"


def _sign_up_form(username, password1=PASSWORD, password2=PASSWORD):
    return SignUpForm(data={"username": username, "password1": password1, "password2": password2})


def _refusal(value) -> forms.ValidationError:
    with pytest.raises(forms.ValidationError) as error:
        validate_new_username(value)
    return error.value


# validate_new_username: what a name may be


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Zoë", "Zoë"),
        ("张伟", "张伟"),
        ("नमस्ते", "नमस्ते"),
        ("Ελένη", "Ελένη"),
        ("Ａｌｉｃｅ", "Ａｌｉｃｅ"),
        ("R2-D2", "R2-D2"),
        ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
        ("j.r.r_tolkien", "j.r.r_tolkien"),
        ("١٢٣", "١٢٣"),
    ],
)
def test_it_accepts_letters_of_any_script_digits_spaces_and_the_allowed_punctuation(given, stored):
    assert validate_new_username(given) == stored


def test_it_collapses_and_strips_whitespace_before_returning_the_name():
    assert validate_new_username("  Zoë    Smith  ") == "Zoë Smith"


def test_it_returns_the_name_composed_as_nfc():
    assert validate_new_username("Zoe\u0308") == "Zo\u00eb"


def test_a_tab_or_newline_inside_a_name_becomes_one_space():
    # Tabs and newlines are whitespace, and whitespace runs collapse to one space: they are not refused.
    assert validate_new_username("Al\tBo") == "Al Bo"
    assert validate_new_username("Al\n\nBo") == "Al Bo"


def test_it_counts_the_length_after_normalization_so_two_letters_in_spaces_is_enough():
    assert validate_new_username("  Al  ") == "Al"


def test_it_refuses_a_name_of_one_character_after_normalization():
    error = _refusal("  A  ")
    assert error.code == "length"
    assert error.messages == ["A name is 2 to 50 characters long."]


def test_it_refuses_a_name_of_only_whitespace():
    assert _refusal("     ").messages == ["A name is 2 to 50 characters long."]


def test_it_accepts_fifty_characters():
    assert validate_new_username("x" * 50) == "x" * 50


def test_it_refuses_fifty_one_characters():
    assert _refusal("x" * 51).messages == ["A name is 2 to 50 characters long."]


def test_it_accepts_fifty_characters_padded_with_spaces_to_more():
    assert validate_new_username("   " + "x" * 50 + "   ") == "x" * 50


def test_a_name_with_combining_marks_is_counted_after_nfc_composition():
    # 50 letters, one of them written as e + combining diaeresis: 51 code points given, 50 stored.
    name = "Zoe\u0308" + "x" * 47
    assert len(name) == 51
    assert validate_new_username(name) == "Zoë" + "x" * 47


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("<script>", "'<'"),
        ("a@b", "'@'"),
        ("Max😀", "'😀'"),
        ("Max\u200b", "'\\u200b'"),
        ("Al\u00adBo", "'\\xad'"),
        ("Bob!", "'!'"),
        ("semi;colon", "';'"),
    ],
)
def test_it_refuses_any_other_character_and_names_it_in_the_message(given, shown):
    error = _refusal(given)
    assert error.code == "invalid_character"
    assert error.messages == [f"{CHARACTER_RULE} (not {shown})."]


def test_it_refuses_a_name_of_punctuation_only():
    error = _refusal("...")
    assert error.code == "no_letters"
    assert error.messages == ["A name needs at least one letter or digit."]


@pytest.mark.parametrize("given", ["Al \u0301", "Al'\u0301s", "Al-\u20dd"])
def test_it_refuses_a_combining_mark_that_does_not_follow_a_letter(given):
    assert _refusal(given).code == "invalid_character"


# SignUpForm


def test_the_form_is_valid_and_cleans_the_name_for_a_new_name():
    form = _sign_up_form("  Zoë   Smith ")
    assert form.is_valid(), form.errors
    assert form.cleaned_data["username"] == "Zoë Smith"
    assert form.cleaned_data["password1"] == PASSWORD


def test_the_form_shows_the_character_rule_for_a_refused_name():
    form = _sign_up_form("<script>")
    assert not form.is_valid()
    assert form.errors["username"] == [f"{CHARACTER_RULE} (not '<')."]


def test_the_form_refuses_a_zero_width_space_in_a_name_that_would_otherwise_be_taken():
    UserFactory(username="Max")
    form = _sign_up_form("Max\u200b")
    assert not form.is_valid()
    assert form.errors["username"] == [f"{CHARACTER_RULE} (not '\\u200b')."]


@pytest.mark.parametrize("variant", ["Max", "max ", "  MAX", "Ｍａｘ", "ｍａｘ"])
def test_it_refuses_a_taken_name(variant):
    UserFactory(username="Max")
    form = _sign_up_form(variant)
    assert not form.is_valid()
    assert form.errors["username"] == ["That name is taken."]


def test_a_name_that_only_contains_a_taken_name_is_not_taken():
    UserFactory(username="Max")
    form = _sign_up_form("Max Power")
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("look_alike", ["Max\ufe0f", "Max\u034f"])
def test_it_refuses_an_invisible_look_alike_of_a_taken_name(look_alike):
    UserFactory(username="Max")
    form = _sign_up_form(look_alike)
    assert not form.is_valid()
    assert "username" in form.errors


def test_it_refuses_mismatched_passwords():
    form = _sign_up_form("Zoë", password1=PASSWORD, password2=PASSWORD + "!")
    assert not form.is_valid()
    assert form.errors == {"password2": ["The two passwords differ."]}


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("k3#Vq", "This password is too short. It must contain at least 8 characters."),
        ("4815162342", "This password is entirely numeric."),
    ],
)
def test_it_refuses_a_weak_password_with_djangos_validators(password, message):
    form = _sign_up_form("Zoë", password1=password, password2=password)
    assert not form.is_valid()
    assert message in form.errors["password1"]
    assert "username" not in form.errors


def test_it_refuses_a_password_too_similar_to_the_name():
    form = _sign_up_form("Marguerite Duras", password1="margueriteduras", password2="margueriteduras")
    assert not form.is_valid()
    assert form.errors["password1"] == ["The password is too similar to the username."]
