"""The nightly beat entry that deletes drafts nobody touched for 30 days (core.drafts).

The command existed, but nothing ran it: forgotten drafts stayed until the retention
rule's upper bound of 3 months (docs/RETENTION.md)."""

from django.db import migrations

NAME = "Veraltete Formularentwürfe löschen"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, __ = CrontabSchedule.objects.get_or_create(
        minute="50",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Europe/Berlin",
    )
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": "core.tasks.delete_stale_drafts", "crontab": nightly}
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_hours_attribution_generation"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
