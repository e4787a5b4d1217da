from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from archives.models import Prayer

pytestmark = pytest.mark.django_db


def test_demo_prayers_need_the_demo_users_and_are_added_once():
    with pytest.raises(CommandError, match="run `manage.py seed_demo` first"):
        call_command("seed_demo_prayers", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo_prayers", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo_prayers", stdout=out)
    assert "already here" in out.getvalue()
    assert Prayer.objects.count() == 3
    answered = Prayer.objects.get(is_answered=True)
    assert answered.testimony == "She got the job!"
    assert answered.activities.filter(kind="prayed").count() == 3
