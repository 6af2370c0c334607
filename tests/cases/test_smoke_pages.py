import pytest
from django.urls import reverse

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
