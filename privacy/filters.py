import datetime

import django_filters
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, Person
from core.forms import DateInput
from core.models import AuditAction, AuditEntry, User


class AuditEntryFilter(django_filters.FilterSet):
    """Filters of the audit log viewer (data protection officer only)."""

    user = django_filters.ModelChoiceFilter(
        label=_("User"), queryset=User.objects.order_by("username")
    )
    person = django_filters.CharFilter(
        label=_("Person (number or name)"), method="filter_person", max_length=100
    )
    case = django_filters.CharFilter(label=_("File number"), method="filter_case", max_length=40)
    action = django_filters.ChoiceFilter(label=_("Audit action"), choices=AuditAction.choices)
    date_from = django_filters.DateFilter(
        label=_("From"), method="filter_date_from", widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        label=_("Until"), method="filter_date_to", widget=DateInput()
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("at", "at"),
            ("username", "user"),
            ("action", "action"),
            ("object_type", "object"),
        ),
        field_labels={
            "at": _("time of entry"),
            "username": _("user"),
            "action": _("audit action"),
            "object_type": _("object"),
        },
    )

    class Meta:
        model = AuditEntry
        fields = ["user", "person", "case", "action", "date_from", "date_to"]

    def filter_person(self, queryset, name, value):
        """Entries about the person, their family, or a case of their family."""
        persons = persons_matching(value)
        families = persons.values("family_id")
        return queryset.filter(
            Q(object_type="cases.person", object_id__in=_ids_as_text(persons))
            | Q(family_id__in=families)
            | Q(case_id__in=Case.objects.filter(family_id__in=families).values("pk"))
        )

    # Ranges on `at` itself (not at__date), so the index on `at` serves them.
    def filter_date_from(self, queryset, name, value):
        return queryset.filter(at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        if value == datetime.date.max:
            return queryset
        return queryset.filter(at__lt=_start_of(value + datetime.timedelta(days=1)))

    def filter_case(self, queryset, name, value):
        return queryset.filter(
            case_id__in=Case.objects.filter(reference__iexact=value.strip()).values("pk")
        )


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def persons_matching(text: str):
    """A person number finds that person; words find persons whose names contain them all."""
    text = text.strip()
    if text.isdigit():
        return Person.objects.filter(pk=int(text)) if len(text) < 19 else Person.objects.none()
    persons = Person.objects.all()
    for word in text.split():
        persons = persons.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return persons


def _ids_as_text(persons):
    # AuditEntry.object_id is text: compare like with like, in one SQL subquery.
    return persons.annotate(id_text=Cast("pk", CharField())).values("id_text")
