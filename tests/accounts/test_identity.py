import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.identity import display_name, resolve_user, username_key, without_spaces
from tests.accounts.factories import UserFactory

names = st.text(max_size=40)
ascii_words = st.text(alphabet=st.characters(min_codepoint=ord("a"), max_codepoint=ord("z")), min_size=1, max_size=12)


@given(names)
def test_the_key_of_a_key_is_itself(name):
    assert username_key(username_key(name)) == username_key(name)


@given(ascii_words)
def test_case_variants_collide(word):
    assert username_key(word.upper()) == username_key(word) == username_key(word.title())


@given(ascii_words)
def test_fullwidth_variants_collide(word):
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) for ch in word)
    assert username_key(fullwidth) == username_key(word)


@given(ascii_words, ascii_words, st.sampled_from([" ", "  ", "\t", "\u00a0", "\u3000", " \n "]))
def test_whitespace_variants_collide(first, second, gap):
    assert username_key(f" {first}{gap}{second}  ") == username_key(f"{first} {second}")


@given(ascii_words, st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e"]))
def test_invisible_characters_do_not_count(word, invisible):
    assert username_key(word[:1] + invisible + word[1:]) == username_key(word)


@given(ascii_words, ascii_words)
def test_different_letters_give_different_keys(first, second):
    if first != second:
        assert username_key(first) != username_key(second)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Max", "MAX"),
        ("Max", "Max\u200b"),
        ("Max", "Ｍａｘ"),
        ("Strauß", "STRAUSS"),
        ("José", "Jose\u0301"),
        ("ﬁle", "file"),
        ("Grace  Lee", " grace lee "),
    ],
)
def test_the_rules_examples_are_one_person(one, other):
    assert username_key(one) == username_key(other)


@pytest.mark.parametrize(("one", "other"), [("user name", "username"), ("Grace Lee", "GraceLee"), ("Max", "Maxi")])
def test_names_that_differ_by_internal_spaces_or_letters_are_different_people(one, other):
    assert username_key(one) != username_key(other)


def test_a_key_the_single_pass_rule_leaves_unstable_is_still_a_fixed_point():
    # NFKC + casefold turns U+1F96 U+0301 into a sequence that NFKC composes differently.
    name = "\u1f96\u0301"
    assert username_key(username_key(name)) == username_key(name)


def test_display_name_only_collapses_whitespace():
    assert display_name("  Jose\u0301   María\t") == "Jose\u0301 María"
    assert display_name("MAX") == "MAX"


def test_without_spaces_removes_every_space():
    assert without_spaces("grace lee x") == "gracelee x".replace(" ", "")


@pytest.mark.django_db
class TestResolveUser:
    def test_it_finds_a_user_by_any_variant_of_the_name(self):
        max_ = UserFactory(username="Max")
        assert resolve_user("  ＭＡＸ\u200b ") == max_

    def test_an_exact_external_id_wins_over_a_name(self):
        named = UserFactory(username="user_2abc123xyz")
        with_id = UserFactory(username="Someone", external_id="user_2abc123xyz")
        assert resolve_user("user_2abc123xyz") == with_id
        assert resolve_user("USER_2ABC123XYZ") == named

    @pytest.mark.parametrize("reference", ["", "   ", "\u200b", "nobody"])
    def test_it_returns_none_for_nothing_or_nobody(self, reference):
        UserFactory(username="Max")
        assert resolve_user(reference) is None
