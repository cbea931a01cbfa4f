"""Every public, account and portal page type: no CSP violation or broken resource, no serious or
critical axe-core violation, no Nu HTML checker error.

Each page is opened twice: in a normal browser context (CSP enforced: violations, page errors and
failed sub-resources are problems; the HTML the server sent is saved for vnu, the screenshot for
people), then in a context that bypasses the CSP only so that axe can be injected.
Screenshots and the HTML: ``e2e-artifacts/pages-<group>/``.
"""

from __future__ import annotations

import pytest

from bookings import services as booking_services
from cooperatives import portal_selectors, portal_services
from cooperatives.models import Membership
from tests.bookings.helpers import checkout, hold, save_details
from tests.factories import MembershipFactory

from .checks import Audit, axe_violations, tools_missing, vnu_errors
from .conftest import DESKTOP, signed_in
from .data import catalog, paid_booking, person

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _tools():
    problem = tools_missing()
    if problem:
        pytest.fail(problem, pytrace=False)


def audit(open_flow, new_context, site, group: str, pages: list[tuple], user=None) -> str:
    """Visit ``pages`` — (name, path, expected status) — and return what the checks found ("" if nothing)."""
    flow = open_flow(f"pages-{group}", user=user)
    checked = Audit(flow.folder)
    axe_context = new_context(viewport=DESKTOP, bypass_csp=True)
    if user is not None:
        signed_in(axe_context, site, user)
    axe_page = axe_context.new_page()
    for name, path, status in pages:
        response = flow.go(path)
        if response.status != status:
            checked.problems.append(f"{name} {path}: status {response.status}, expected {status}")
            continue
        checked.save_html(name, response.body())
        flow.shot(name)
        axe_page.goto(site(path))
        checked.axe[name] = axe_violations(axe_page)
    checked.problems += flow.problems
    return checked.report()


def test_public_and_account_pages(open_flow, new_context, site):
    data = catalog()
    invitation = portal_services.invitation_create(
        email="lider@example.com", role=Membership.Role.LEADER, cooperative=data.cooperative, language="es"
    )
    pages = [
        ("home", "/", 200),
        ("home-es", "/es/", 200),
        ("route", f"/routes/{data.route.slug}/", 200),
        ("tour", f"/tours/{data.tour.slug}/", 200),
        ("tour-es", f"/es/tours/{data.tour.slug}/", 200),
        ("farm", f"/farms/{data.farm.slug}/", 200),
        ("cooperative", f"/cooperatives/{data.cooperative.slug}/", 200),
        ("login", "/accounts/login/", 200),
        ("login-code", "/accounts/login/code/", 200),
        ("signup", "/accounts/signup/", 200),
        ("password-reset", "/accounts/password/reset/", 200),
        ("password-reset-done", "/accounts/password/reset/done/", 200),
        ("not-found", "/no-such-page/", 404),
        ("invitation", f"/es/portal/invitation/{invitation.token}/", 200),
        ("invitation-unknown", "/es/portal/invitation/not-a-token/", 404),
    ]
    report = audit(open_flow, new_context, site, "public", pages)
    assert not report, "\n" + report


def test_traveller_pages(open_flow, new_context, site):
    data = catalog()
    traveller = person("rosa@example.com")
    paid = paid_booking(data.departure, traveller, adults=2, children=1)
    cancelled = paid_booking(data.departure, traveller, adults=1)
    booking_services.booking_cancel(booking=cancelled, actor=traveller, reason="change of plans")
    held = save_details(hold(data.departure, traveller, adults=2))
    payment = checkout(held)
    pages = [
        ("book-1-units", f"/book/{data.departure.pk}/", 200),
        ("book-2-details", f"/bookings/{held.reference}/details/", 200),
        ("book-3-checkout", f"/checkout/simulated/{payment.checkout_session_id}/", 200),
        ("book-4-confirmation", f"/bookings/{paid.reference}/success/", 200),
        ("my-bookings", "/bookings/", 200),
        ("booking", f"/bookings/{paid.reference}/", 200),
        ("cancel", f"/bookings/{paid.reference}/cancel/", 200),
        ("booking-cancelled", f"/bookings/{cancelled.reference}/", 200),
        ("my-bookings-es", "/es/bookings/", 200),
        ("profile", "/accounts/profile/", 200),
        ("email", "/accounts/email/", 200),
        ("password-change", "/accounts/password/change/", 200),
        ("account-delete", "/accounts/delete/", 200),
    ]
    report = audit(open_flow, new_context, site, "traveller", pages, user=traveller)
    assert not report, "\n" + report


def test_portal_pages(open_flow, new_context, site):
    data = catalog()
    paid_booking(data.departure, person("rosa@example.com"), adults=2)
    leader = person("lider@example.com", first_name="Juana", last_name="Huamán", preferred_language="es")
    MembershipFactory(user=leader, cooperative=data.cooperative, role=Membership.Role.LEADER)
    # An invitation to the fund for the signed-in leader: the page offers "accept".
    invitation = portal_services.invitation_create(
        email=leader.email, role=Membership.Role.TREASURER, fund=data.fund, language="es"
    )
    today = portal_selectors.lima_today()
    org = f"/es/portal/c/{data.cooperative.pk}"
    pages = [
        ("invitation-signed-in", f"/es/portal/invitation/{invitation.token}/", 200),
        ("dashboard", f"{org}/", 200),
        ("entries", f"{org}/movimientos/", 200),
        ("visits", f"{org}/visitas/", 200),
        ("payouts", f"{org}/pagos/", 200),
        ("statement", f"{org}/estado/{today:%Y-%m}/", 200),
        ("payout-settings", f"{org}/datos-de-pago/", 200),
    ]
    report = audit(open_flow, new_context, site, "portal", pages, user=leader)
    assert not report, "\n" + report


def test_the_checks_find_real_problems(page, tmp_path):
    """The checks are not vacuous: a page with the usual mistakes fails both."""
    broken = (
        "<!DOCTYPE html><html><head></head>"
        "<body><img src='x.png'><input type='text'><form action=''></form></body></html>"
    )
    page.set_content(broken)
    found = {v["id"]: v["impact"] for v in axe_violations(page)}
    assert found == {
        "document-title": "serious",
        "html-has-lang": "serious",
        "image-alt": "critical",
        "label": "critical",
    }

    path = tmp_path / "broken.html"
    path.write_text(broken)
    errors = vnu_errors([path])["broken.html"]
    assert any("“title”" in error for error in errors)
    assert any("Bad value “” for attribute “action”" in error for error in errors)


def test_admin_pages_keep_the_csp(open_flow, site, settings):
    """The admin (Django's own templates and ours) runs under the same CSP: no violation, no page error.

    axe and vnu do not audit the admin: it is staff-only and its markup is Django's.
    """
    data = catalog()
    staff = person("ops@kallpa.example", is_staff=True, is_superuser=True)
    admin = f"/{settings.ADMIN_URL}"
    anonymous = open_flow("admin-anonymous")
    anonymous.go(f"{admin}login/")
    anonymous.shot("login")
    flow = open_flow("admin", user=staff)
    for name, path in [
        ("index", admin),
        ("tour", f"{admin}tours/tour/{data.tour.pk}/change/"),
        ("departures", f"{admin}tours/departure/"),
        ("departure-add", f"{admin}tours/departure/add/"),
        ("cooperative", f"{admin}cooperatives/cooperative/{data.cooperative.pk}/change/"),
        ("bookings", f"{admin}bookings/booking/"),
    ]:
        assert flow.go(path).status == 200, path
        flow.shot(name)
    anonymous.check()
    flow.check()
