from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.models import Region
from controlling import services
from controlling.kpis import parse_period
from controlling.models import JobStatus


class Command(BaseCommand):
    help = "Render a controlling report synchronously and print the archived file's path."

    def add_arguments(self, parser):
        parser.add_argument("--region", help="slug of the region (default: all regions)")
        parser.add_argument("--period", required=True, help="e.g. 2025-Q4, 2025-11, 2025")

    def handle(self, *args, region=None, period, **options):
        try:
            period = parse_period(period)
        except ValueError as error:
            raise CommandError(str(error)) from error
        region_obj = None
        if region:
            region_obj = Region.objects.filter(slug=region).first()
            if region_obj is None:
                known = ", ".join(Region.objects.values_list("slug", flat=True))
                raise CommandError(f"Unknown region {region!r}; known: {known}")
        job = services.request_report(region=region_obj, period=period)
        job.refresh_from_db()
        if job.status != JobStatus.DONE:
            claimed = services.claim_job(job.pk) or job
            services.render_and_archive(claimed)
            job.refresh_from_db()
        self.stdout.write(str(settings.MEDIA_ROOT / job.file))
