from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from archives import services
from archives.models import Prayer

# (author, request, who prayed, answered with testimony or None)
DEMO_PRAYERS = [
    ("Bob", "Safe travels for our family this weekend.", ["Alice", "Carol"], None),
    (
        "Carol",
        "For my sister, who is looking for work after a long illness.",
        ["Alice", "Dave", "Erin"],
        "She got the job!",
    ),
    ("Dave", "Wisdom for a hard conversation at work on Monday.\n\nThank you all.", ["Bob"], None),
]


class Command(BaseCommand):
    help = "Add a few demo prayer requests by the demo users (run seed_demo first); running it again adds nothing."

    def handle(self, *args, **options):
        people = {user.username: user for user in User.objects.filter(external_id__startswith="demo:")}
        if len(people) < 5:
            raise CommandError("The demo users are missing: run `manage.py seed_demo` first.")
        if Prayer.objects.filter(author__in=people.values()).exists():
            self.stdout.write("Demo prayers are already here.")
            return
        for author, request, prayed_by, testimony in DEMO_PRAYERS:
            prayer = services.submit_prayer(acting_user=people[author], request=request)
            for name in prayed_by:
                services.mark_prayed(acting_user=people[name], prayer=prayer)
            if testimony:
                services.mark_answered(acting_user=people[author], prayer=prayer, testimony=testimony)
        self.stdout.write(self.style.SUCCESS(f"{len(DEMO_PRAYERS)} demo prayer requests added."))
