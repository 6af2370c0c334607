"""The hour rollups and the same sums straight from the entries, for comparing them."""

from django.db.models import Sum

from providers.models import HourEntry, HourRollup


def rolled_up() -> dict:
    rows = HourRollup.objects.values_list("provider_id", "help_id", "kind", "day").annotate(
        m=Sum("minutes")
    )
    return {tuple(row[:4]): row[4] for row in rows if row[4]}


def summed_entries() -> dict:
    """Straight from the entries: case-specific minutes per help and month, others per day."""
    sums: dict = {}
    for provider, help, kind, date, minutes in HourEntry.objects.values_list(
        "provider_id", "help_id", "kind", "date", "minutes"
    ):
        key = (provider, help, kind, date if help is None else date.replace(day=1))
        sums[key] = sums.get(key, 0) + minutes
    return {key: m for key, m in sums.items() if m}
