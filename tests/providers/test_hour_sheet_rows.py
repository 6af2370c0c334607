"""The hour sheet's week is rendered row by row, each distinct row once per process
({% remembered_include %}): a changed entry shows at once, an unchanged one is reused."""

from django.urls import reverse

from core.templatetags import kijufaz
from providers import services


def test_an_unchanged_row_is_reused_and_a_changed_one_shows_at_once(staff_client, fachkraft, log):
    entry = log(fachkraft, note="Elterngespräch")
    kijufaz.REMEMBERED_ROWS.clear()
    url = reverse("providers:hour_sheet")

    assert "Elterngespräch" in staff_client.get(url).content.decode()
    assert len(kijufaz.REMEMBERED_ROWS) == 1
    staff_client.get(url)
    assert len(kijufaz.REMEMBERED_ROWS) == 1

    services.update_entry(entry=entry, by=fachkraft, fields={"note": "Hausbesuch"})
    page = staff_client.get(url).content.decode()
    assert "Hausbesuch" in page
    assert "Elterngespräch" not in page
