"""A caseworker's first sign-in with two-factor on: enrol, keep the backup codes, sign in
again with one of them. The QR code is an image rendered by the server (CSP: no script)."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from .helpers import assert_accessible, login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _code(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(6)


def test_first_sign_in_enrols_the_authenticator_and_a_backup_code_works_later(
    page, live_server, browser_errors, asd, settings
):
    settings.KIJUFAZ_REQUIRE_2FA = True

    login(page, live_server, "asd")

    assert page.url == f"{live_server.url}/accounts/two-factor/setup/?next=%2F"
    qr_width = page.evaluate("document.querySelector('main figure img').naturalWidth")
    assert qr_width > 0, "the QR code image did not load"
    assert_accessible(page)
    screenshot(page, "two-factor-setup")

    device = TOTPDevice.objects.get(user=asd, confirmed=False)
    page.fill("#id_token", _code(device))
    with page.expect_navigation():
        page.click("main form[action='/accounts/two-factor/setup/'] [type=submit]")

    assert page.url == f"{live_server.url}/accounts/two-factor/?next=%2F"
    codes = page.locator("#backup-codes-heading ~ ul li").all_inner_texts()
    assert len(codes) == 10
    assert_accessible(page)
    screenshot(page, "two-factor-codes")
    with page.expect_navigation():
        page.click("main a.btn-primary[href='/']")
    assert page.url == f"{live_server.url}/"

    with page.expect_navigation():
        page.click("nav form[action='/accounts/logout/'] [type=submit]")
    login(page, live_server, "asd")

    assert page.url == f"{live_server.url}/accounts/two-factor/verify/?next=%2F"
    assert_accessible(page)
    page.fill("#id_token", codes[0])
    with page.expect_navigation():
        page.click("main form[action='/accounts/two-factor/verify/'] [type=submit]")

    assert page.url == f"{live_server.url}/"
    assert page.locator(".messages .alert-warning").count() == 1
    browser_errors.assert_none()
