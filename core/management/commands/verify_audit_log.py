from django.core.management.base import BaseCommand, CommandError

from core.audit import verify_anchors, verify_chain


class Command(BaseCommand):
    help = (
        "Walk the audit log's hash chain in id order and check the anchors kept outside "
        "the database; report OK with the numbers, or the first problem (exit status 1)."
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
        anchors = verify_anchors()
        if not anchors.ok:
            raise CommandError(
                f"Audit log anchors ({anchors.checked}): {anchors.problem}.", returncode=1
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {report.checked} audit entries, chain intact; "
                f"{anchors.checked} anchors found in the log."
            )
        )
