"""Default retention rules (proposals; docs/RETENTION.md explains each, the office must
confirm them) and the nightly beat entry that proposes a retention run."""

from django.db import migrations

YEAR = 12

# record type, start event, restrict after, remove after (months), action, reasoning
RULES = [
    (
        "case_out_of_home",
        "help_ended",
        3 * YEAR,
        60 * YEAR,
        "anonymise",
        "Akten über Hilfen außerhalb der eigenen Familie (Vollzeitpflege § 33, Heimerziehung "
        "§ 34, stationäre Hilfen § 35, § 35a, § 41) sollen Careleavern auch Jahrzehnte später "
        "Einsicht in ihre Geschichte geben (§ 9b SGB VIII in der seit 2025 geltenden Fassung; "
        "Erfahrungen der Runden Tische Heimerziehung). Vorschlag: Sperrung (§ 84 Abs. 3 SGB X) "
        "3 Jahre nach Ende der letzten Hilfe, Anonymisierung erst nach 60 Jahren, damit auch "
        "ein als Kleinkind untergebrachter Mensch die Akte bis ins höhere Alter einsehen kann. "
        "Anonymisieren statt löschen, weil Haushalts- und Kennzahlen vergangener Jahre darauf "
        "beruhen. Vom Amt zu bestätigen.",
    ),
    (
        "case_help",
        "help_ended",
        3 * YEAR,
        30 * YEAR,
        "anonymise",
        "Akten über ambulante und teilstationäre Hilfen zur Erziehung (§§ 27–32, 35, 35a, 41 "
        "SGB VIII). Bisherige Praxis: 10 Jahre nach Ende der Hilfe. § 9b SGB VIII verlangt seit "
        "2025 eine deutlich längere Aufbewahrung, damit junge Menschen ihre Hilfegeschichte "
        "nachvollziehen können; Vorschlag 30 Jahre (bis weit über die Volljährigkeit hinaus), "
        "Sperrung nach 3 Jahren (§ 84 Abs. 3 SGB X: zur Aufgabenerfüllung nicht mehr "
        "erforderlich). Anonymisieren, weil Kennzahlen und Budgets darauf beruhen. Vom Amt zu "
        "bestätigen.",
    ),
    (
        "case_risk",
        "case_closed",
        2 * YEAR,
        10 * YEAR,
        "anonymise",
        "Fälle mit einer Gefährdungseinschätzung nach § 8a SGB VIII, aber ohne Hilfe. Eine "
        "spätere Meldung muss frühere Einschätzungen finden können (Kinderschutz, "
        "Fallverläufe); üblich sind 10 Jahre nach Abschluss. Sperrung nach 2 Jahren. "
        "Anonymisieren, weil die Zahl der § 8a-Verfahren in Berichten vergangener Jahre "
        "stehen bleibt. Vom Amt zu bestätigen.",
    ),
    (
        "case_no_help",
        "case_closed",
        1 * YEAR,
        5 * YEAR,
        "delete",
        "Beratungsfälle ohne Hilfe und ohne § 8a-Verfahren. Die Daten sind nach Abschluss "
        "nicht mehr erforderlich (§ 84 Abs. 2 SGB X, Art. 5 Abs. 1 lit. e, Art. 17 DSGVO); "
        "5 Jahre decken eine erneute Anfrage der Familie ab. Gelöscht wird nur, wo keine "
        "Kennzahl darauf beruht (sonst anonymisiert). Vom Amt zu bestätigen.",
    ),
    (
        "hour_entry",
        "entry_date",
        None,
        10 * YEAR,
        "anonymise",
        "Leistungsnachweise sind Abrechnungsbelege der Träger (10 Jahre, § 147 AO / § 257 HGB "
        "entsprechend). Danach wird nur der Freitext (Notiz) entfernt; Minuten, Art, Datum "
        "und Träger bleiben für Stunden- und Budgetzahlen vergangener Jahre. Vom Amt zu "
        "bestätigen.",
    ),
    (
        "group_attendance",
        "entry_date",
        None,
        3 * YEAR,
        "anonymise",
        "Namentlich erfasste Teilnehmende präventiver Gruppenangebote ohne eigenen Fall. Die "
        "Namen sind nach der Teilnahme nicht mehr erforderlich; nach 3 Jahren (Ende der "
        "Berichtszeiträume des Leistungsvertrags) werden die Personen anonymisiert, die "
        "Teilnahme bleibt für die Zahl der erreichten Menschen gezählt. Vom Amt zu bestätigen.",
    ),
    (
        "draft",
        "entry_date",
        None,
        3,
        "delete",
        "Entwürfe ungespeicherter Formulare (Notizen, Hilfepläne, § 8a) sollen nur eine "
        "Zeitüberschreitung überbrücken. Nach 3 Monaten ohne Änderung werden sie gelöscht "
        "(Datenminimierung, Art. 5 Abs. 1 lit. c DSGVO). Vom Amt zu bestätigen.",
    ),
]

SCHEDULE = "Löschfristen: fälligen Lauf vorschlagen (nachts)"


def create(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for record_type, event, restrict, remove, action, reasoning in RULES:
        RetentionRule.objects.get_or_create(
            record_type=record_type,
            defaults={
                "start_event": event,
                "restrict_after_months": restrict,
                "remove_after_months": remove,
                "action": action,
                "legal_reasoning": reasoning,
            },
        )
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, __ = CrontabSchedule.objects.get_or_create(
        minute="30",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Europe/Berlin",
    )
    PeriodicTask.objects.get_or_create(
        name=SCHEDULE,
        defaults={"task": "privacy.tasks.propose_retention_run", "crontab": crontab},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE).delete()
    apps.get_model("privacy", "RetentionRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_retention"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
