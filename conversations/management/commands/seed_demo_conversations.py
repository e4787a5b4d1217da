from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from conversations import analysis, services

# (owner, session_id, transcript, extra analysis fields from the app's save-analysis call)
DEMO_CONVERSATIONS = [
    (
        "Alice",
        "demo-0000-4000-8000-000000000001",
        "Speaker 1: We need the scaffolding down by Friday.\nSpeaker 2: Fine, the crew starts at seven. "
        "Can you send the revised quote today?",
        {"summary": "Scaffolding schedule and the revised quote."},
    ),
    (
        "Alice",
        "demo-0000-4000-8000-000000000002",
        "Speaker 1: The tiles arrived damaged, two boxes.\nSpeaker 2: That is frustrating. Please send photos.",
        {"summary": "Damaged tiles delivery."},
    ),
    ("Bob", "demo-0000-4000-8000-000000000003", "Speaker 1: Thank you all for the great work this week!", {}),
]


class Command(BaseCommand):
    help = "Add demo conversations and a chat with the assistant for the demo users (run seed_demo first); idempotent."

    def handle(self, *args, **options):
        people = {user.username: user for user in User.objects.filter(external_id__startswith="demo:")}
        if not {"Alice", "Bob"} <= set(people):
            raise CommandError("The demo users are missing: run `manage.py seed_demo` first.")
        created = 0
        for owner, session_id, transcript, extra in DEMO_CONVERSATIONS:
            result = {**analysis.analyze(transcript, duration=len(transcript.split()) / 2.5), **extra}
            _, new = services.save_conversation(
                owner=people[owner],
                session_id=session_id,
                source="save_analysis",
                transcript=transcript,
                analysis=result,
            )
            created += new
        for n, text in enumerate(["hello", "my conversations", "1"], start=1):
            services.receive_message(user=people["Alice"], external_id=f"demo:chat:{n}", body=text)
        if created:
            self.stdout.write(self.style.SUCCESS(f"{created} demo conversation(s) and a demo chat added."))
        else:
            self.stdout.write("Demo conversations are already here.")
