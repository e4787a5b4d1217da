from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from integrity.registry import all_checks
from integrity.services import apply_plans, undo_repair
from onboarding import crypto
from onboarding.models import ApiKey, OnboardingSession, WebsiteAnalysis
from tests.onboarding.factories import ApiKeyFactory, OnboardingSessionFactory, WebsiteAnalysisFactory

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def get_check(name):
    return next(c for c in all_checks() if c.name == name)


def heal(name):
    check = get_check(name)
    return apply_plans(plans={name: check.plan_fix()})


def test_every_onboarding_check_is_registered():
    names = {c.name for c in all_checks() if c.app_label == "onboarding"}
    assert names == {
        "onboarding.session_without_user",
        "onboarding.duplicate_analysis",
        "onboarding.stale_url_key",
        "onboarding.failed_beside_completed",
        "onboarding.undecryptable_api_key",
        "onboarding.api_key_not_primary",
    }


def test_a_clean_database_has_no_findings():
    session = OnboardingSessionFactory()
    WebsiteAnalysisFactory(session=session)
    ApiKeyFactory(session=session)
    assert all(c.find().count == 0 for c in all_checks() if c.app_label == "onboarding")


def test_duplicates_under_a_recomputed_key_fold_into_the_completed_newest_one_undoably():
    session = OnboardingSessionFactory()
    # Stored under an older rule (say, one that kept the trailing slash): two live rows for one site.
    failed = WebsiteAnalysisFactory(session=session, url="https://Shop.example/", url_key="https://shop.example/",
                                    status="failed")  # fmt: skip
    completed = WebsiteAnalysisFactory(session=session, url="https://shop.example", url_key="https://shop.example")
    other = WebsiteAnalysisFactory(session=OnboardingSessionFactory(), url="https://shop.example/", url_key="x")
    assert get_check("onboarding.duplicate_analysis").find().count == 1
    journal = heal("onboarding.duplicate_analysis")
    failed.refresh_from_db()
    assert failed.merged_into == completed
    assert get_check("onboarding.duplicate_analysis").find().count == 0
    assert WebsiteAnalysis.objects.filter(pk=failed.pk).exists()  # kept as a tombstone
    assert get_check("onboarding.stale_url_key").find().sample == [other.pk]
    undo_repair(journal_id=journal.pk)
    failed.refresh_from_db()
    assert failed.merged_into is None


def test_a_stale_url_key_is_recomputed():
    analysis = WebsiteAnalysisFactory(url="HTTPS://Example.com/Blog/", url_key="https://example.com/blog")
    assert get_check("onboarding.stale_url_key").find().sample == [analysis.pk]
    heal("onboarding.stale_url_key")
    analysis.refresh_from_db()
    assert analysis.url_key == "https://example.com/Blog"


def test_a_failed_analysis_beside_a_completed_one_of_the_same_site_is_folded():
    session = OnboardingSessionFactory()
    completed = WebsiteAnalysisFactory(session=session, url="https://www.bakery.example")
    failed = WebsiteAnalysisFactory(session=session, url="http://bakery.example", status="failed")
    unrelated = WebsiteAnalysisFactory(session=session, url="http://other.example", status="failed")
    assert get_check("onboarding.failed_beside_completed").find().sample == [failed.pk]
    heal("onboarding.failed_beside_completed")
    failed.refresh_from_db()
    unrelated.refresh_from_db()
    assert (failed.merged_into, unrelated.merged_into) == (completed, None)


def test_keys_that_no_key_opens_are_reported_and_old_ones_are_rotated(settings):
    settings.CAIRN_FERNET_KEYS = [OLD]
    old = ApiKeyFactory(plaintext="AIza" + "R" * 35)
    settings.CAIRN_FERNET_KEYS = [Fernet.generate_key().decode()]
    lost = ApiKeyFactory(provider="exa", session=old.session, plaintext="fa4efa4e-e86a-4f31-85f4-1e1c6956af5d")
    settings.CAIRN_FERNET_KEYS = [NEW, OLD]
    assert get_check("onboarding.undecryptable_api_key").find().sample == [lost.pk]
    assert get_check("onboarding.api_key_not_primary").find().sample == [old.pk]
    heal("onboarding.api_key_not_primary")
    settings.CAIRN_FERNET_KEYS = [NEW]
    assert ApiKey.objects.get(pk=old.pk).reveal() == "AIza" + "R" * 35
    assert crypto.is_primary(ApiKey.objects.get(pk=old.pk).secret)


def test_doctor_reports_onboarding_findings_by_name():
    WebsiteAnalysisFactory(url="https://a.example/", url_key="stale")
    out = StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("doctor", "--only", "onboarding", stdout=out, stderr=StringIO())
    assert "onboarding.stale_url_key" in out.getvalue()


def test_a_session_whose_user_is_gone_is_reported():
    # Foreign keys are checked at commit on both databases; this test's transaction never commits.
    orphan = OnboardingSession.objects.create(user_id=999_999)
    OnboardingSessionFactory()
    assert get_check("onboarding.session_without_user").find().sample == [orphan.pk]
    orphan.delete()  # the test teardown checks the constraints
