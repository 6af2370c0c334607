"""Parsing the periods people put in URLs (weeks, months) without ever failing."""

import calendar
import datetime


def month_end(day: datetime.date) -> datetime.date:
    """The last day of the month `day` is in."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_month(value: str | None, default: datetime.date) -> tuple[datetime.date, bool]:
    """'2026-11' -> (date(2026, 11, 1), True); anything else -> (default's month, False)."""
    fallback = default.replace(day=1)
    if not value:
        return fallback, True
    try:
        year, month = (int(part) for part in value.split("-"))
        parsed = datetime.date(year, month, 1)
    except (ValueError, TypeError):
        return fallback, False
    if not 2000 <= year <= 2100:
        return fallback, False
    return parsed, True


def parse_week(value: str | None, default: datetime.date) -> tuple[datetime.date, bool]:
    """'2026-W48' -> (Monday of that ISO week, True); anything else -> (default's Monday, False)."""
    fallback = default - datetime.timedelta(days=default.weekday())
    if not value:
        return fallback, True
    try:
        monday = datetime.datetime.strptime(value + "-1", "%G-W%V-%u").date()
    except (ValueError, TypeError):
        return fallback, False
    if not 2000 <= monday.year <= 2100:
        return fallback, False
    return monday, True


def iso_week(day: datetime.date) -> str:
    year, week, __ = day.isocalendar()
    return f"{year}-W{week:02d}"
