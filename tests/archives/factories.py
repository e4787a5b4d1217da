from datetime import UTC, datetime, timedelta

import factory

from archives.models import Activity, Prayer
from tests.accounts.factories import UserFactory


class PrayerFactory(factory.django.DjangoModelFactory):
    """A prayer row only; use archives.services.submit_prayer when the archive file matters."""

    class Meta:
        model = Prayer

    archive_id = factory.Sequence(lambda n: f"{n:032x}")
    author = factory.SubFactory(UserFactory)
    request = factory.Sequence(lambda n: f"Please pray for request {n}.")
    submitted_at = factory.Sequence(lambda n: datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=n))


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    prayer = factory.SubFactory(PrayerFactory)
    actor = factory.SubFactory(UserFactory)
    kind = Activity.Kind.PRAYED
    at = factory.LazyAttribute(lambda a: a.prayer.submitted_at + timedelta(hours=1))
