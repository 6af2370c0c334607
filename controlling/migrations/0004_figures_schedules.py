from django.db import migrations

NAME = "Budget-Dashboard vorberechnen"
COMPACT = "Stundenänderungen verdichten"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, __ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "controlling.tasks.warm_dashboard_figures",
            "interval": every_minute,
            # A queued run older than a minute is superseded by the next one.
            "expire_seconds": 60,
        },
    )
    nightly, __ = CrontabSchedule.objects.get_or_create(
        minute="40",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Europe/Berlin",
    )
    PeriodicTask.objects.get_or_create(
        name=COMPACT,
        defaults={"task": "core.tasks.compact_hours_changes", "crontab": nightly},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[NAME, COMPACT]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("controlling", "0003_subscription_to_all_once"),
        ("core", "0006_hours_changes"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
