import uuid

import pytest
from django.urls import reverse

from providers import services
from providers.models import HourEntry
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_provider_pages_render(client, fachkraft, traegerleitung, case, leitung):
    help = case.helps.get()
    entry, created = services.log_hours(
        staff=fachkraft,
        idempotency_key=uuid.uuid4(),
        date=f.today(),
        minutes=60,
        kind="case_specific",
        activity="direct_work",
        help=help,
    )
    assert created
    client.force_login(fachkraft)
    for url in [
        reverse("providers:hour_sheet"),
        reverse("providers:hour_sheet") + "?week=xx",
        reverse("providers:entry_edit", args=[entry.pk]),
        reverse("providers:group_split"),
        reverse("providers:group_offer_list"),
        reverse("providers:group_offer_new"),
        reverse("cases:case_detail", args=[case.pk]),
    ]:
        assert client.get(url).status_code == 200, url
    client.force_login(traegerleitung)
    today = f.today()
    for url in [
        reverse("providers:overview"),
        reverse("providers:month_review", args=[fachkraft.pk, today.year, today.month]),
        reverse("providers:export_csv"),
        reverse("providers:export_xlsx"),
        reverse("providers:proof_of_service", args=[help.pk, today.year, today.month]),
    ]:
        assert client.get(url).status_code == 200, url
    response = client.post(
        reverse("providers:month_review", args=[fachkraft.pk, today.year, today.month]),
        {"decision": "approve"},
    )
    assert response.status_code == 302
    assert HourEntry.objects.get(pk=entry.pk).is_locked
    client.force_login(leitung)
    assert client.get(reverse("providers:summary")).status_code == 200
