"""The whole wizard in headless Chromium (Playwright with Debian's chromium; no browser download)."""

from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest

from tests.accounts.factories import UserFactory
from tests.conftest import needs_chromium

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onboarding"
PASSWORD = "a long browser passphrase"

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]  # live_server needs committed data


class Quiet(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(FIXTURES), **kwargs)

    def log_message(self, *args):
        pass


@pytest.fixture
def website(settings, serve):
    """A saved page served locally; the analyzer may fetch from loopback in this test only."""
    settings.CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    return serve(Quiet) + "/bakery_blog.html"


def log_in(browser, live_server, username):
    page = browser.new_context().new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/login/?next=/onboarding/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return page


@pytest.fixture
def wendy():
    # Created before `browser` starts Playwright's event loop: ORM calls made while it runs would get
    # connections of their own (asgiref's context-local storage) that outlive the test.
    return UserFactory(username="Wendy", password=PASSWORD)


def test_the_whole_wizard_in_a_browser(wendy, browser, live_server, website):
    gemini = "AIza" + "BrowserTestKeyBrowserTestKeyBr" + "o" + "W5er"
    page = log_in(browser, live_server, "wendy")

    # 1. API keys: a malformed key is a field error; a good one is shown masked.
    page.wait_for_url("**/onboarding/step/1/")
    assert page.locator("progress").count() == 1
    page.select_option("select[name=provider]", "gemini")
    page.fill("input[name=key]", "not-a-key")
    page.click("button[value=save]")
    assert "does not look like a Google Gemini key" in page.content()
    page.select_option("select[name=provider]", "gemini")
    page.fill("input[name=key]", gemini)
    page.click("button[value=save]")
    assert "AIza…W5er" in page.inner_text("table")
    assert gemini not in page.content()
    page.click("button[value=next]")

    # 2. Website: analyzed from the local page; back and forth keeps it.
    page.wait_for_url("**/onboarding/step/2/")
    page.fill("input[name=url]", website)
    page.click("button[value=analyze]")
    assert "Analyzed" in page.inner_text(".messages")
    assert "first person" not in page.inner_text(".messages")
    assert "(in use)" in page.content()
    page.click("a[rel=prev]")
    page.wait_for_url("**/onboarding/step/1/")
    page.goto(f"{live_server.url}/onboarding/step/2/")
    page.click("button[value=next]")

    # 3. Research preferences.
    page.wait_for_url("**/onboarding/step/3/")
    page.click("button[type=submit]:has-text('Save and continue')")
    assert "This field is required" in page.content()
    page.select_option("select[name=research_depth]", "Deep")
    page.check("input[name=content_types][value='Blog Posts']")
    page.click("button[type=submit]:has-text('Save and continue')")

    # 4. Persona: built, then edited.
    page.wait_for_url("**/onboarding/step/4/")
    page.check("input[name=selected_platforms][value=linkedin]")
    page.click("button[value=generate]")
    assert "Built your persona" in page.inner_text(".messages")
    persona = page.input_value("textarea[name=core_persona]")
    assert '"tone"' in persona
    page.fill("textarea[name=core_persona]", persona.replace('"identity": "', '"identity": "Edited: ', 1))
    page.click("button[value=save]")

    # 5. Integrations (optional).
    page.wait_for_url("**/onboarding/step/5/")
    page.check("input[name=platforms][value=wordpress]")
    page.click("button[type=submit]:has-text('Save and continue')")

    # 6. Summary, then Finish.
    page.wait_for_url("**/onboarding/step/6/")
    summary = page.inner_text("main")
    for text in ["AIza…W5er", "bakery_blog.html", "Deep research on Blog Posts", "Edited:", "wordpress"]:
        assert text in summary, text
    page.click("button:has-text('Finish')")
    assert "Onboarding complete" in page.inner_text(".messages")

    # A fresh browser resumes at the same summary, read from the database.
    fresh = log_in(browser, live_server, "Wendy")
    fresh.wait_for_url("**/onboarding/step/6/")
    again = fresh.inner_text("main")
    assert "AIza…W5er" in again
    assert "Completed on" in again
    assert gemini not in fresh.content()
