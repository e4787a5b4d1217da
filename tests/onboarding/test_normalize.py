import pytest

from onboarding.normalize import url_key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        # legacy/alwrity.md B5, every row of its table
        ("example.com", "https://example.com"),
        ("https://example.com/", "https://example.com"),
        ("https:/example.com", "https://example.com"),
        ("https:///example.com/", "https://example.com"),
        ("HTTPS://Example.COM/Blog/", "https://example.com/Blog"),
        ("http:/Example.com//", "http://example.com"),
        ("http://example.com", "http://example.com"),
        ("https://www.example.com", "https://www.example.com"),
        ("  https://www.Example.com/a/b/?q=1#x ", "https://www.example.com/a/b/?q=1#x"),
        # and a few more
        ("Example.com?Q=A", "https://example.com?Q=A"),
        ("HTTP://EXAMPLE.com#Top", "http://example.com#Top"),
        ("https://Harbor-Dental.com/", "https://harbor-dental.com"),
    ],
)
def test_url_key_follows_the_import_rules(raw, key):
    assert url_key(raw) == key


@pytest.mark.parametrize("raw", ["example.com/a/", "HTTPS://Example.COM/Blog/", "http:/x.org//?a=1"])
def test_url_key_is_its_own_key(raw):
    assert url_key(url_key(raw)) == url_key(raw)
