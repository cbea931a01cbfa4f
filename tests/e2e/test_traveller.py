"""A traveller books, pays (simulated checkout), gets the e-mail with the calendar file, and cancels.

The same flow runs on a desktop (1280×800) and on a phone (375×812).
"""

import re

import pytest
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus
from cacaotours.core.money import Money
from tours.models import SeatHold

from .conftest import DESKTOP, PHONE
from .data import PASSWORD, catalog, person

pytestmark = pytest.mark.e2e


def sign_in(flow, email: str):
    """On the sign-in page (reached by a redirect): the password form, then back where we were."""
    page = flow.page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


@pytest.mark.parametrize(("screen", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_traveller_books_pays_and_cancels(open_flow, mailoutbox, screen, viewport):
    data = catalog()
    traveller = person("rosa@example.com")
    flow = open_flow(f"traveller-{screen}", viewport)
    page = flow.page

    # Browse: home → route → tour → a departure.
    flow.go("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    flow.shot("home")
    page.locator("main").get_by_role("link", name=re.compile("Convención Valley")).first.click()
    expect(page.get_by_role("heading", level=1, name="Convención Valley")).to_be_visible()
    flow.shot("route")
    page.locator("main").get_by_role("link", name=re.compile("Quillabamba Cacao Day")).first.click()
    expect(page.get_by_role("heading", level=1, name="Quillabamba Cacao Day")).to_be_visible()
    flow.shot("tour")
    page.locator("#dates").get_by_role("link", name=re.compile("^Book")).first.click()

    # Booking needs an account: sign in, and come back to the departure.
    sign_in(flow, traveller.email)
    expect(page).to_have_url(re.compile(f"/book/{data.departure.pk}/$"))
    flow.shot("departure")

    # Step 1: units.
    page.get_by_label("Adults").fill("2")
    if page.get_by_label("Children").count():
        page.get_by_label("Children").fill("0")
    expect(page.locator("[data-estimate-output]")).to_have_text("S/ 700.00")
    page.get_by_role("button", name="Hold my seats and continue").click()

    # Step 2: participants, while the hold countdown runs.
    booking = Booking.objects.get(user=traveller)
    assert booking.status == BookingStatus.HELD
    assert SeatHold.objects.get(booking=booking).units == 2
    expect(page).to_have_url(re.compile(f"/bookings/{booking.reference}/details/$"))
    clock = page.locator("[data-countdown-clock]")
    expect(clock).to_be_visible()
    expect(clock).to_have_text(re.compile(r"^1[45]:[0-5][0-9] left$|^1[45] minutes left$"))
    flow.shot("participants")
    page.locator("input[name='p-0-full_name']").fill("Rosa Quispe")
    page.locator("input[name='p-0-dietary_needs']").fill("vegetarian")
    page.locator("input[name='p-1-full_name']").fill("Juan Huamán")
    page.get_by_label("Emergency contact name").fill("Domingo Quispe")
    page.get_by_label("Emergency contact phone").fill("+51 984 222 333")
    page.get_by_role("button", name="Continue to payment").click()

    # Step 3: the simulated checkout (no Stripe key in the tests).
    expect(page).to_have_url(re.compile("/checkout/simulated/"))
    flow.shot("checkout")
    page.get_by_role("button", name=re.compile("^Pay")).click()

    # Step 4: confirmation with the reference.
    expect(page).to_have_url(re.compile(f"/bookings/{booking.reference}/success/$"))
    expect(page.locator(".reference").first).to_have_text(booking.reference)
    expect(page.get_by_text("Confirmed", exact=False).first).to_be_visible()
    flow.shot("confirmation")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.total == Money(70000, "PEN")

    # The confirmation e-mail, with the calendar file.
    [mail] = [m for m in mailoutbox if booking.reference in m.subject]
    assert mail.to == ["rosa@example.com"]
    [(filename, ics, mimetype)] = mail.attachments
    assert (filename, mimetype.split(";")[0]) == (f"{booking.reference}.ics", "text/calendar")
    assert "BEGIN:VEVENT" in ics
    assert "Quillabamba Cacao Day" in ics

    # My bookings → the booking → cancel, with the policy's refund (10 days before: 50%).
    page.get_by_role("link", name="All my bookings").click()
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()
    flow.shot("my-bookings")
    page.locator("main").get_by_role("link", name=re.compile("Quillabamba Cacao Day")).first.click()
    expect(page).to_have_url(re.compile(f"/bookings/{booking.reference}/$"))
    flow.shot("booking")
    page.locator("main").get_by_role("link", name="Cancel this booking").first.click()
    expect(page.locator("main")).to_contain_text("S/ 350.00")
    flow.shot("cancel")
    page.get_by_label("Yes, cancel this booking").check()
    page.get_by_role("button", name="Cancel booking").click()
    expect(page).to_have_url(re.compile(f"/bookings/{booking.reference}/$"))
    expect(page.locator("main")).to_contain_text(f"Your booking {booking.reference} is cancelled")
    flow.shot("cancelled")

    booking.refresh_from_db()
    assert booking.status in (BookingStatus.CANCELLED, BookingStatus.REFUNDED)
    refund = booking.payments.get().refunds.get()
    assert refund.amount == 35000
    assert any("cancel" in m.subject.lower() for m in mailoutbox if m is not mail)
    flow.check()
