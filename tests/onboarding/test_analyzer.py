"""The analyzer on saved pages served by a local server in the test: no other network is touched."""

import contextlib
import ipaddress
import socket
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from onboarding import fetch, services
from onboarding.analyzer import StatisticalAnalyzer
from onboarding.fetch import FetchError, fetch_page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "onboarding"
LOOPBACK = ["127.0.0.0/8"]


class Site(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        Site.hits.append(self.path)
        routes = {
            "/blog": lambda: self._send(200, (FIXTURES / "bakery_blog.html").read_bytes()),
            "/report": lambda: self._send(200, (FIXTURES / "annual_report.html").read_bytes(), "text/html"),
            "/to-blog": lambda: self._redirect("/blog"),
            "/to-private": lambda: self._redirect("http://10.1.2.3/admin"),
            "/to-metadata": lambda: self._redirect("http://169.254.169.254/latest/meta-data/"),
            "/to-ipv6-loopback": lambda: self._redirect("http://[::1]/"),
            "/to-file": lambda: self._redirect("file:///etc/passwd"),
            "/big": lambda: self._send(200, b"<p>" + b"a " * (1_100_000) + b"</p>"),
            "/big-unannounced": lambda: self._send(200, b"<p>" + b"a " * (1_100_000) + b"</p>", length=False),
            "/json": lambda: self._send(200, b'{"a": 1}', "application/json"),
            "/missing": lambda: self._send(404, b"<p>no</p>"),
            "/empty": lambda: self._send(200, b"<html><body><p>Hello.</p></body></html>"),
            "/slow": lambda: (time.sleep(1.5), self._send(200, b"<p>late</p>")),
        }
        if self.path.startswith("/loop"):
            n = int(self.path[5:] or 0)
            return self._redirect(f"/loop{n + 1}")
        routes.get(self.path, lambda: self._send(404, b""))()

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status, body, content_type="text/html; charset=utf-8", length=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)  # the client may stop reading at the size cap


@pytest.fixture
def site(serve):
    Site.hits = []
    return serve(Site)


@pytest.fixture
def loopback_allowed(settings):
    settings.CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS = LOOPBACK


def test_a_blog_post_gets_a_first_person_conversational_profile(site, loopback_allowed):
    result = StatisticalAnalyzer().analyze(f"{site}/blog")
    assert result.ok, result.error
    style = result.fields["writing_style"]
    assert style["person"] == "first person"
    assert style["formality"] == "conversational"
    assert style["voice"] == "active"
    assert result.fields["content_type"]["primary_type"] == "blog post"
    crawl = result.fields["crawl_result"]
    assert crawl["title"].startswith("Why we still bake by hand")
    assert crawl["status_code"] == 200
    assert "Subscribe to our newsletter" not in str(result.fields)  # boilerplate is not the text
    assert result.fields["content_characteristics"]["readability"]["flesch_kincaid_grade"] < 8


def test_a_formal_report_in_latin_1_gets_a_formal_third_person_profile(site, loopback_allowed):
    result = StatisticalAnalyzer().analyze(f"{site}/report")
    assert result.ok, result.error
    assert result.fields["writing_style"]["formality"] == "formal"
    assert result.fields["writing_style"]["person"] == "third person"
    assert result.fields["writing_style"]["complexity"] in {"advanced", "expert"}
    assert result.fields["target_audience"]["expertise_level"] in {"advanced", "expert"}


def test_the_profile_is_deterministic(site, loopback_allowed):
    first = StatisticalAnalyzer().analyze(f"{site}/blog").fields
    second = StatisticalAnalyzer().analyze(f"{site}/blog").fields
    assert first == second


def test_redirects_are_followed_and_recorded(site, loopback_allowed):
    page = fetch_page(f"{site}/to-blog")
    assert page.final_url == f"{site}/blog"
    assert page.redirects == [f"{site}/blog"]


def test_loopback_is_refused_unless_allowed(site):
    with pytest.raises(FetchError, match="127.0.0.1 is a loopback address"):
        fetch_page(f"{site}/blog")
    assert Site.hits == []  # refused before connecting


def test_a_hostname_that_resolves_to_loopback_is_refused(site):
    port = site.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match="loopback"):
        fetch_page(f"http://localhost:{port}/blog")
    assert Site.hits == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.1.2.3/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.5.4:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fd00::1]/", "private"),
        ("http://[::ffff:10.0.0.1]/", "private"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.0.1/", "not a public address"),
    ],
)
def test_private_and_link_local_targets_are_refused_without_connecting(url, kind, monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("a refused address must never be connected to")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    with pytest.raises(FetchError, match=kind):
        fetch_page(url)


@pytest.mark.parametrize(
    ("path", "refused"),
    [("/to-private", "10.1.2.3 is a private"), ("/to-metadata", "link-local"), ("/to-ipv6-loopback", "::1")],
)
def test_a_redirect_into_a_private_range_is_refused(site, settings, path, refused):
    settings.CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # the first hop only
    with pytest.raises(FetchError, match=refused):
        fetch_page(f"{site}{path}")
    assert Site.hits == [path]


def test_a_redirect_to_another_scheme_is_refused(site, loopback_allowed):
    with pytest.raises(FetchError, match="file"):
        fetch_page(f"{site}/to-file")


def test_more_than_five_redirects_fail(site, loopback_allowed):
    with pytest.raises(FetchError, match="more than 5 times"):
        fetch_page(f"{site}/loop")
    assert len(Site.hits) == 6


@pytest.mark.parametrize("path", ["/big", "/big-unannounced"])
def test_a_page_over_2_mb_fails(site, loopback_allowed, path):
    with pytest.raises(FetchError, match="larger than 2 MB"):
        fetch_page(f"{site}{path}")


@pytest.mark.parametrize(
    ("path", "message"),
    [("/json", "not a web page"), ("/missing", "HTTP 404"), ("/empty", "too little text")],
)
def test_unusable_pages_are_failed_results_with_a_reason(site, loopback_allowed, path, message):
    result = StatisticalAnalyzer().analyze(f"{site}{path}")
    assert not result.ok
    assert message in result.error


def test_a_slow_site_times_out(site, loopback_allowed, settings):
    settings.CAIRN_ONBOARDING_FETCH_TIMEOUT = 0.5
    with pytest.raises(FetchError, match="did not answer within 0.5 seconds"):
        fetch_page(f"{site}/slow")


def test_an_unknown_host_is_a_clear_failure(monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(FetchError, match="could not be found"):
        fetch_page("https://no-such-host.invalid/")


@pytest.mark.django_db
def test_a_failed_refetch_is_stored_beside_the_completed_analysis_without_hiding_it(site, settings, user):
    settings.CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS = LOOPBACK
    completed = services.analyze_website(user=user, url=f"{site}/blog")
    assert completed.status == "completed"
    settings.CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS = []
    again = services.analyze_website(user=user, url=f"{site}/blog/")
    assert again.pk == completed.pk
    assert again.status == "completed"
    assert "loopback" in again.error
    assert again.writing_style == completed.writing_style
    refused = services.analyze_website(user=user, url="http://10.9.9.9/")
    assert (refused.status, refused.url_key) == ("failed", "http://10.9.9.9")


def test_refusal_allows_a_configured_network():
    assert fetch.refusal("10.1.2.3", []) == "10.1.2.3 is a private address"
    assert fetch.refusal("10.1.2.3", [ipaddress.ip_network("10.0.0.0/8")]) is None
    assert fetch.refusal("93.184.216.34", []) is None


def test_a_page_the_extractor_chokes_on_is_a_failed_result_not_an_error(site, loopback_allowed, monkeypatch, caplog):
    import trafilatura

    def broken(*args, **kwargs):
        raise ValueError("lxml gave up")

    monkeypatch.setattr(trafilatura, "extract", broken)
    result = StatisticalAnalyzer().analyze(f"{site}/blog")
    assert not result.ok
    assert "could not be read" in result.error
    assert "Analyzing" in caplog.text
