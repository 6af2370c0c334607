import pytest
from django.urls import reverse

from cases.models import Help
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_case_pages_render_for_owner(client, asd, case):
    client.force_login(asd)
    help = case.helps.get()
    plan = help.plans.get()
    risk = case.risk_assessments.get()
    urls = [
        reverse("desk"),
        reverse("cases:case_list"),
        reverse("cases:case_list") + "?q=Yil&status=open&review_overdue=on&ordering=-family",
        reverse("cases:case_detail", args=[case.pk]),
        reverse("cases:case_open"),
        reverse("cases:case_close", args=[case.pk]),
        reverse("cases:help_add", args=[case.pk]),
        reverse("cases:risk_add", args=[case.pk]),
        reverse("cases:family_detail", args=[case.family_id]),
        reverse("cases:family_edit", args=[case.family_id]),
        reverse("cases:person_add", args=[case.family_id]),
        reverse("cases:help_end", args=[help.pk]),
        reverse("cases:help_hours", args=[help.pk]),
        reverse("cases:plan_new", args=[help.pk]),
        reverse("cases:plan_detail", args=[plan.pk]),
        reverse("cases:plan_pdf", args=[plan.pk]),
        reverse("cases:risk_edit", args=[risk.pk]),
        reverse("cases:case_export_csv"),
        reverse("cases:case_export_xlsx"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_ids_above_999_are_plain_digits_in_the_html(client, asd, case, provider):
    # German number formatting once turned help 2307 into "help-2.307" in an element id.
    help = f.make_help(case, provider)
    Help.objects.filter(id=help.id).update(id=12345)
    client.force_login(asd)

    html = client.get(reverse("cases:case_detail", args=[case.pk])).text

    assert 'aria-labelledby="help-12345"' in html
