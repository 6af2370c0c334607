import json

from django.db import migrations

SCHEDULES = [
    # name, task, kwargs, crontab (minute, hour, day_of_month, month_of_year)
    (
        "Controllingbericht monatlich (alle Regionen)",
        "controlling.tasks.render_scheduled_reports",
        {"kind": "month"},
        ("0", "6", "2", "*"),
    ),
    (
        "Controllingbericht quartalsweise (alle Regionen)",
        "controlling.tasks.render_scheduled_reports",
        {"kind": "quarter"},
        ("0", "6", "3", "1,4,7,10"),
    ),
]
SWEEPER = "Liegengebliebene Berichte neu einreihen"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, kwargs, (minute, hour, dom, moy) in SCHEDULES:
        crontab, __ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week="*",
            day_of_month=dom,
            month_of_year=moy,
            timezone="Europe/Berlin",
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "kwargs": json.dumps(kwargs), "crontab": crontab}
        )
    every_five, __ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=SWEEPER,
        defaults={"task": "controlling.tasks.sweep_stuck_reports", "interval": every_five},
    )


def remove(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES] + [SWEEPER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("controlling", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
