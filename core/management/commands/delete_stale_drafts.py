from django.core.management.base import BaseCommand

from core.drafts import STALE_AFTER, delete_stale_drafts


class Command(BaseCommand):
    help = (
        f"Delete form drafts nobody touched for {STALE_AFTER.days} days (they hold personal data)."
    )

    def handle(self, *args, **options):
        deleted = delete_stale_drafts()
        self.stdout.write(f"{deleted} stale drafts deleted")
