from django.core.management.base import BaseCommand

from accounts import services

DEMO_PASSWORD = "cairn-demo"
# (name, inviter): a small invite tree, three levels deep.
DEMO_PEOPLE = [
    ("Alice", None),
    ("Bob", "Alice"),
    ("Carol", "Alice"),
    ("Dave", "Bob"),
    ("Erin", "Carol"),
    ("Frank", "Dave"),
]


class Command(BaseCommand):
    help = "Create demo users with an invite tree (Alice is staff); running it again changes nothing."

    def handle(self, *args, **options):
        people = {}
        created = 0
        for name, inviter in DEMO_PEOPLE:
            people[name], was_created = services.ensure_user(
                external_id=f"demo:{name.lower()}",
                username=name,
                password=DEMO_PASSWORD,
                invited_by=people.get(inviter),
                is_staff=name == "Alice",
                is_superuser=name == "Alice",
            )
            created += was_created
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} user(s) created)."))
        self.stdout.write(f"Log in at http://127.0.0.1:8000/ as Alice / {DEMO_PASSWORD} (staff: /admin/).")
        self.stdout.write(f"Other demo users: {', '.join(n for n, _ in DEMO_PEOPLE[1:])}, same password.")
