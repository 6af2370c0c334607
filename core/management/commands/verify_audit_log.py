from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain in id order; report OK with the number of "
        "entries, or the first broken link (exit status 1)."
    )

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.ok:
            broken = report.first_break
            raise CommandError(
                f"Audit log chain broken at entry #{broken.entry_id} "
                f"({broken.at.isoformat()}): {broken.reason}. "
                f"{report.checked} entries before it are intact.",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {report.checked} audit entries, chain intact."))
