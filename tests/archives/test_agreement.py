"""After any sequence of page actions, the wall, the archive files and doctor agree."""

import random
import re
from io import StringIO

import pytest
from django.core.management import call_command

from archives import integrity
from archives.models import Activity, Prayer
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def run_random_actions(seed, clients, steps):
    rng = random.Random(seed)
    for step in range(steps):
        name, client = rng.choice(clients)
        prayers = list(Prayer.objects.values_list("archive_id", flat=True))
        action = rng.choice(["submit"] * 2 + ["pray"] * 4 + ["answer", "archive", "restore", "flag"])
        if action == "submit" or not prayers:
            text = rng.choice(["Plain", "Two\n\nparagraphs", "Activity:\nodd", "  padded  "]) + f" #{step}"
            client.post("/prayers/", {"request": text, "generated_prayer": rng.choice(["", "Amen."])})
        elif action == "answer":
            testimony = rng.choice(["", "Thank you!", "Home\nnow"])
            client.post(f"/prayers/{rng.choice(prayers)}/answer/", {"testimony": testimony})
        else:
            client.post(f"/prayers/{rng.choice(prayers)}/{action}/")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_wall_the_archive_and_doctor_agree_after_random_actions(seed, client_for):
    clients = [(name, client_for(UserFactory(username=name))) for name in ("Ann", "Ben", "Cy")]
    run_random_actions(seed, clients, steps=40)
    assert Activity.objects.exists()

    call_command("doctor", stdout=StringIO())  # raises CommandError if any check finds a problem

    page = clients[0][1].get("/prayers/").content.decode()
    for prayer in Prayer.objects.on_the_wall()[:20]:
        assert prayer.request.splitlines()[0].strip() in page
    shown = sum(int(n) for n in re.findall(r"Prayed for (\d+) time", page))
    expected = sum(p.prayed_count for p in Prayer.objects.on_the_wall()[:20])
    assert shown == expected


def test_doctor_notices_an_event_the_archive_does_not_have(user, other_user, client_for):
    client = client_for(user)
    client.post("/prayers/", {"request": "Hello"})
    prayer = Prayer.objects.get()
    Activity.objects.create(prayer=prayer, actor=other_user, kind="prayed", at=prayer.submitted_at)
    assert integrity.archive_disagreements.find().sample == [prayer.archive_id]


def test_doctor_notices_a_prayer_only_the_archive_has(user, client_for):
    client_for(user).post("/prayers/", {"request": "Hello"})
    prayer = Prayer.objects.get()
    archive_id = prayer.archive_id
    prayer.delete()
    assert integrity.archive_disagreements.find().sample == [archive_id]
