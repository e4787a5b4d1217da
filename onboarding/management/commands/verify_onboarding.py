import json

from django.core.management.base import BaseCommand, CommandError

from accounts.identity import resolve_user
from onboarding import services
from onboarding.models import STEP_TITLES


class Command(BaseCommand):
    help = "Print one user's onboarding state as step 6 of the wizard shows it (keys masked)."

    def add_arguments(self, parser):
        parser.add_argument("user", help="The user's external id (e.g. user_2abc123xyz) or name.")
        parser.add_argument("--format", choices=["text", "json"], default="text", help="Output format (default: text).")

    def handle(self, *args, user, format, **options):
        found = resolve_user(user)
        if found is None:
            raise CommandError(f"{user}: no such user (give an external id or a name).")
        summary = services.summary_for_user(found).as_dict()
        if format == "json":
            self.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True))
            return
        write = self.stdout.write
        done = f"completed {summary['completed_at']}" if summary["completed"] else "not completed"
        write(f"{found.username} ({found.external_id}): step {summary['current_step']} "
              f"({STEP_TITLES[summary['current_step']]}), {done}")  # fmt: skip
        keys = summary["api_keys"]
        write(
            f"API keys: {keys['count']}"
            + (": " + ", ".join(f"{k['provider']} {k['masked']}" for k in keys["providers"]) if keys["count"] else "")
        )
        website = summary["website"]
        if website:
            tone = (website["writing_style"] or {}).get("tone") if isinstance(website["writing_style"], dict) else None
            write(f"Website: {website['url']} ({website['status']}{', tone ' + tone if tone else ''}); "
                  f"{summary['analyses_count']} analysis(es) in all")  # fmt: skip
        elif summary["business_description"]:
            write(f"Website: none; business: {summary['business_description']}")
        else:
            write("Website: none")
        prefs = summary["research_preferences"]
        write(
            "Research preferences: "
            + (
                f"{prefs['research_depth']}, {', '.join(prefs['content_types'] or []) or 'no content types'}, "
                f"auto research {prefs['auto_research']}, factual {prefs['factual_content']}"
                if prefs
                else "none"
            )
        )
        persona = summary["persona"]
        write("Persona: " + (f"platforms {', '.join(persona['selected_platforms']) or 'none'}" if persona else "none"))
        write("Integrations: " + (", ".join(summary["integrations"]) or "none"))
