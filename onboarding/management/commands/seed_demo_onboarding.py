from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from onboarding import services
from onboarding.analyzer import StatisticalAnalyzer
from onboarding.models import OnboardingSession

DEMO_SITE = "https://fernhill-bakery.example"
# A demo page's text, analyzed offline: the demo never fetches anything.
DEMO_TEXT = """Every morning at four, I unlock the back door and switch on the ovens. You might think that's early.
It is! But it's the only way we can get fresh bread on your table by seven.
We've tried machines. The loaves looked fine, but they didn't taste like ours. So we went back to shaping every
loaf by hand, and we haven't looked back since.
Our sourdough rises slowly for two whole days. We use flour from a mill just down the road, and we don't add
anything you can't pronounce. You'll taste it in the crust.
Come by on Saturday and try a slice. I'll be at the counter, probably covered in flour. Bring a friend!"""
# Fake keys in the providers' shapes (they open nothing).
DEMO_KEYS = {
    "gemini": "AIza" + "DemoKeyNotRealDemoKeyNotRealDem" + "0000",
    "exa": "00000000-0000-4000-8000-000000000000",
}


class Command(BaseCommand):
    help = "Give the demo users (from seed_demo) onboarding data: Alice finished, Bob half-way. Idempotent."

    def handle(self, *args, **options):
        alice = User.objects.filter(external_id="demo:alice").first()
        bob = User.objects.filter(external_id="demo:bob").first()
        if alice is None or bob is None:
            raise CommandError("The demo users do not exist: run `manage.py seed_demo` first.")
        seeded = 0
        for user, finish in [(alice, True), (bob, False)]:
            if OnboardingSession.objects.filter(user=user).exists():
                continue  # already seeded, or the user has been through the wizard: leave it as it is
            with transaction.atomic():
                self._seed(user, finish=finish)
            seeded += 1
        self.stdout.write(self.style.SUCCESS(f"Demo onboarding ready ({seeded} user(s) seeded)."))

    def _seed(self, user, *, finish: bool) -> None:
        for provider, key in DEMO_KEYS.items():
            services.save_api_key(user=user, provider=provider, key=key)
        services.complete_step(user=user, step=1)
        services.record_analysis(user=user, url=DEMO_SITE, result=StatisticalAnalyzer().analyze_text(DEMO_TEXT))
        services.complete_step(user=user, step=2)
        if not finish:
            return
        services.save_research_preferences(
            user=user, research_depth="Deep", content_types=["Blog Posts", "Social Media"], auto_research=True,
            factual_content=True,
        )  # fmt: skip
        services.complete_step(user=user, step=3)
        services.generate_persona(user=user, selected_platforms=["blog", "instagram"])
        services.complete_step(user=user, step=4)
        services.save_integrations(user=user, platforms=["wordpress", "instagram"])
        services.complete_step(user=user, step=5)
        services.finish_onboarding(user=user)
