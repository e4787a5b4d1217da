from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from conversations import services
from conversations.models import IdempotencyKey


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than CONVERSATIONS_IDEMPOTENCY_TTL_HOURS; a dry run unless --execute."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="Count what would be deleted (the default).")
        mode.add_argument("--execute", action="store_true", help="Delete them.")

    def handle(self, *args, execute, **options):
        cutoff = timezone.now() - timedelta(hours=settings.CONVERSATIONS_IDEMPOTENCY_TTL_HOURS)
        if not execute:
            count = IdempotencyKey.objects.filter(created_at__lt=cutoff).count()
            self.stdout.write(f"Would delete {count} expired Idempotency-Key record(s). Run with --execute to delete.")
            return
        count = services.prune_idempotency_keys(older_than=cutoff)
        self.stdout.write(self.style.SUCCESS(f"Deleted {count} expired Idempotency-Key record(s)."))
