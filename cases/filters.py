import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import USER_NAME_FIELDS, Role, User

from .models import Case, CaseStatus, Help, LegalBasis, Region, Setting, Team


class CaseFilter(django_filters.FilterSet):
    """Filters of the case list; always applied to the user's own visible cases."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    region = django_filters.ModelChoiceFilter(
        label=_("Region"), field_name="family__region", queryset=Region.objects.only("name")
    )
    owner = django_filters.ModelChoiceFilter(label=_("Case owner"), queryset=User.objects.none())
    team = django_filters.ModelChoiceFilter(label=_("ASD team"), queryset=Team.objects.none())
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CaseStatus.choices)
    legal_basis = django_filters.ChoiceFilter(
        label=_("Legal basis"), choices=LegalBasis.choices, method="filter_legal_basis"
    )
    setting = django_filters.ChoiceFilter(
        label=_("Setting"), choices=Setting.choices, method="filter_setting"
    )
    review_overdue = django_filters.BooleanFilter(
        label=_("Only reviews overdue"),
        method="filter_review_overdue",
        widget=forms.CheckboxInput,
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("reference", "reference"),
            ("family__name", "family"),
            ("opened_on", "opened"),
            ("owner__last_name", "owner"),
            ("status", "status"),
        ),
        field_labels={
            "reference": _("file number"),
            "family__name": _("family"),
            "opened_on": _("opened on"),
            "owner__last_name": _("case owner"),
            "status": _("status"),
        },
    )

    class Meta:
        model = Case
        fields = ["q", "region", "owner", "team", "status", "legal_basis", "setting"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.role in (Role.ASD, Role.ASD_LEAD):
            # The choices load only what their labels show (str() of a user and a team).
            self.filters["owner"].queryset = (
                User.objects.filter(
                    Q(team_id=user.team_id) | Q(pk=user.pk), role__in=[Role.ASD, Role.ASD_LEAD]
                )
                .only(*USER_NAME_FIELDS)
                .order_by("last_name", "first_name")
            )
            self.filters["team"].queryset = Team.objects.filter(pk=user.team_id).only("name")
        else:
            # Providers work with cases from every team; they filter by help, not by owner.
            del self.filters["owner"]
            del self.filters["team"]

    def filter_search(self, queryset, name, value):
        # The matching cases are looked up first: PostgreSQL cannot estimate how few
        # cases a name matches and otherwise walks every case of the office in date order
        # to fill the first page. Then the count and the page read only those.
        matching = list(queryset.search(value).order_by().values_list("pk", flat=True))
        return queryset.filter(pk__in=matching)

    def filter_legal_basis(self, queryset, name, value):
        return queryset.with_legal_basis(value, helps=Help.objects.visible_to(self.user))

    def filter_setting(self, queryset, name, value):
        return queryset.with_setting(value, helps=Help.objects.visible_to(self.user))

    def filter_review_overdue(self, queryset, name, value):
        return queryset.review_overdue() if value else queryset
