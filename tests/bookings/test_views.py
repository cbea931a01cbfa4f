"""The booking pages. Tests of pages that render a template skip until the template exists."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.utils import timezone

from bookings.models import Booking, BookingStatus, PaymentStatus
from tests.bookings.helpers import checkout, hold, needs_template, pay_simulated, snapshot
from tests.factories import UserFactory

B = BookingStatus
P = PaymentStatus


def details_data(booking, names=None, **overrides) -> dict:
    names = names or ["Rosa Quispe", "Juan Huamán", "Ana Quispe"][: booking.units]
    data = {
        "p-TOTAL_FORMS": str(len(names)),
        "p-INITIAL_FORMS": str(len(names)),  # as rendered: one pre-filled form per traveller
        "p-MIN_NUM_FORMS": "1",
        "p-MAX_NUM_FORMS": "1000",
        "emergency_contact_name": "Domingo",
        "emergency_contact_phone": "+51 984 222 333",
        "language": "en",
        "notes": "",
    }
    for index, name in enumerate(names):
        data[f"p-{index}-full_name"] = name
        data[f"p-{index}-dietary_needs"] = ""
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def signed_in(client, traveller):
    client.force_login(traveller)
    return client


# -- step 1: hold ------------------------------------------------------------------------


@pytest.mark.django_db
def test_book_holds_the_seats_and_goes_to_the_details(signed_in, departure, traveller):
    response = signed_in.post(f"/book/{departure.pk}/", {"departure": departure.pk, "adults": 2, "children": 1})

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.reference}/details/"
    assert (booking.user, booking.adults, booking.children, booking.total_amount) == (traveller, 2, 1, 87500)
    assert booking.language == "en"


@pytest.mark.django_db
def test_book_in_spanish_records_the_language(signed_in, departure):
    response = signed_in.post(f"/es/book/{departure.pk}/", {"departure": departure.pk, "adults": 1, "children": 0})

    booking = Booking.objects.get()
    assert response["Location"] == f"/es/bookings/{booking.reference}/details/"
    assert booking.language == "es"


@pytest.mark.django_db
def test_book_ignores_any_price_in_the_form(signed_in, departure):
    signed_in.post(f"/book/{departure.pk}/", {"departure": departure.pk, "adults": 1, "children": 0, "total_amount": 1})

    assert Booking.objects.get().total_amount == 35000


@needs_template("departure_book.html")
@pytest.mark.django_db
def test_book_page_shows_the_form(signed_in, departure):
    response = signed_in.get(f"/book/{departure.pk}/")

    assert response.status_code == 200
    assert "Quillabamba Cacao Day" in response.content.decode()


@needs_template("departure_book.html")
@pytest.mark.django_db
def test_book_sold_out_is_a_409_with_the_reason_and_holds_nothing(signed_in, departure):
    hold(departure, UserFactory(), adults=8)
    hold(departure, UserFactory(), adults=2)
    before = snapshot()

    response = signed_in.post(f"/book/{departure.pk}/", {"departure": departure.pk, "adults": 1, "children": 0})

    assert response.status_code == 409
    assert messages_of(response) == ["Sorry, this departure is sold out."]
    assert snapshot() == before


@needs_template("departure_book.html")
@pytest.mark.django_db
def test_book_with_an_invalid_form_is_a_400(signed_in, departure):
    response = signed_in.post(f"/book/{departure.pk}/", {"departure": departure.pk, "adults": 0, "children": 0})

    assert response.status_code == 400
    assert Booking.objects.count() == 0


# -- step 2: details -> checkout -------------------------------------------------------


@pytest.mark.django_db
def test_details_post_goes_to_the_simulated_checkout(signed_in, held_booking):
    response = signed_in.post(f"/bookings/{held_booking.reference}/details/", details_data(held_booking))

    booking = Booking.objects.get(pk=held_booking.pk)
    payment = booking.payments.get()
    assert response.status_code == 302
    assert response["Location"] == payment.checkout_url
    assert response["Location"].startswith("/checkout/simulated/cs_sim_")
    assert booking.status == B.AWAITING_PAYMENT
    assert list(booking.participants.values_list("full_name", "is_child")) == [
        ("Rosa Quispe", False),
        ("Juan Huamán", False),
        ("Ana Quispe", True),
    ]


@pytest.mark.django_db
def test_details_post_goes_to_stripe(signed_in, held_booking, stripe_server):
    response = signed_in.post(f"/bookings/{held_booking.reference}/details/", details_data(held_booking))

    [session] = stripe_server.sessions.values()
    assert response.status_code == 302
    assert response["Location"] == f"https://checkout.stripe.com/c/pay/{session['id']}"
    assert session["success_url"] == (
        f"http://testserver/bookings/{held_booking.reference}/success/?session_id={{CHECKOUT_SESSION_ID}}"
    )


@needs_template("booking_details.html")
@pytest.mark.django_db
def test_details_post_when_stripe_is_down_says_so_and_keeps_the_hold(signed_in, held_booking, stripe_server):
    stripe_server.fail_next(3, status=500)

    response = signed_in.post(f"/bookings/{held_booking.reference}/details/", details_data(held_booking))

    assert response.status_code == 200
    assert messages_of(response) == ["The payment page could not be opened. Please try again in a moment."]
    assert Booking.objects.get(pk=held_booking.pk).status == B.HELD


@needs_template("booking_details.html")
@pytest.mark.django_db
def test_details_page_shows_one_form_per_traveller(signed_in, held_booking):
    response = signed_in.get(f"/bookings/{held_booking.reference}/details/")

    assert response.status_code == 200
    assert response.context["formset"].total_form_count() == 3


@needs_template("booking_details.html")
@pytest.mark.django_db
def test_details_with_too_few_travellers_changes_nothing(signed_in, held_booking):
    before = snapshot()

    response = signed_in.post(
        f"/bookings/{held_booking.reference}/details/", details_data(held_booking, names=["Rosa Quispe"])
    )

    assert response.status_code == 200
    assert messages_of(response) == ["Please give the details of every traveller."]
    assert snapshot() == before


@pytest.mark.django_db
def test_details_of_an_expired_hold_send_the_traveller_back_to_the_tour(signed_in, held_booking):
    Booking.objects.filter(pk=held_booking.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = signed_in.get(f"/bookings/{held_booking.reference}/details/")

    assert response.status_code == 302
    assert response["Location"] == held_booking.departure.tour.get_absolute_url()
    assert messages_of(response) == ["Your hold has expired and the seats were released. Please choose again."]


@pytest.mark.django_db
def test_details_of_another_travellers_booking_is_a_404(client, held_booking):
    client.force_login(UserFactory())
    before = snapshot()

    assert client.get(f"/bookings/{held_booking.reference}/details/").status_code == 404
    assert client.post(f"/bookings/{held_booking.reference}/details/", details_data(held_booking)).status_code == 404
    assert snapshot() == before


# -- the simulated checkout page -----------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "location", "status"),
    [
        ("pay", "/bookings/{ref}/success/", B.CONFIRMED),
        ("decline", "/bookings/{ref}/details/", B.HELD),
        ("abandon", "TOUR", B.EXPIRED),
    ],
)
@pytest.mark.django_db
def test_simulated_checkout_buttons(
    signed_in, ready_booking, outcome, location, status, django_capture_on_commit_callbacks
):
    payment = checkout(ready_booking)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"/checkout/simulated/{payment.checkout_session_id}/", {"outcome": outcome})

    expected = (
        ready_booking.departure.tour.get_absolute_url()
        if location == "TOUR"
        else location.format(ref=ready_booking.reference)
    )
    assert response.status_code == 302
    assert response["Location"] == expected
    assert Booking.objects.get(pk=ready_booking.pk).status == status
    assert len(mail.outbox) == (1 if outcome == "pay" else 0)


@pytest.mark.django_db
def test_simulated_checkout_of_another_traveller_is_a_404(client, ready_booking):
    payment = checkout(ready_booking)
    client.force_login(UserFactory())
    before = snapshot()

    response = client.post(f"/checkout/simulated/{payment.checkout_session_id}/", {"outcome": "pay"})

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.django_db
def test_simulated_checkout_is_a_404_when_stripe_is_configured(signed_in, ready_booking, settings):
    payment = checkout(ready_booking)
    settings.SIMULATED_CHECKOUT = False

    response = signed_in.post(f"/checkout/simulated/{payment.checkout_session_id}/", {"outcome": "pay"})

    assert response.status_code == 404
    assert Booking.objects.get(pk=ready_booking.pk).status == B.AWAITING_PAYMENT


@needs_template("simulated_checkout.html")
@pytest.mark.django_db
def test_simulated_checkout_page(signed_in, ready_booking):
    payment = checkout(ready_booking)

    response = signed_in.get(f"/checkout/simulated/{payment.checkout_session_id}/")

    assert response.status_code == 200
    assert "S/ 875.00" in response.content.decode()


# -- after payment ------------------------------------------------------------------------


@pytest.mark.django_db
def test_calendar_file_of_a_confirmed_booking(signed_in, ready_booking, django_capture_on_commit_callbacks):
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)

    response = signed_in.get(f"/bookings/{booking.reference}/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="{booking.reference}.ics"'
    assert f"UID:{booking.reference}@kallpa-cacao-routes" in response.content.decode()


@pytest.mark.django_db
def test_calendar_file_of_an_unconfirmed_booking_redirects(signed_in, held_booking):
    response = signed_in.get(f"/bookings/{held_booking.reference}/calendar.ics")

    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{held_booking.reference}/"


@needs_template("booking_success.html")
@pytest.mark.django_db
def test_success_page(signed_in, ready_booking, django_capture_on_commit_callbacks):
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)

    response = signed_in.get(f"/bookings/{booking.reference}/success/")

    assert response.status_code == 200
    assert booking.reference in response.content.decode()


@needs_template("_status.html")
@pytest.mark.django_db
def test_status_panel(signed_in, held_booking):
    response = signed_in.get(f"/bookings/{held_booking.reference}/status/")

    assert response.status_code == 200


@needs_template("booking_detail.html")
@pytest.mark.django_db
def test_detail_page_of_a_confirmed_booking_shows_the_refund_quote(
    signed_in, ready_booking, django_capture_on_commit_callbacks
):
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)

    response = signed_in.get(f"/bookings/{booking.reference}/")

    assert response.status_code == 200
    assert response.context["refund_quote"].amount.amount == 87500
    assert booking.reference in response.content.decode()


@needs_template("booking_list.html")
@pytest.mark.django_db
def test_list_shows_only_the_travellers_own_bookings(signed_in, departure, traveller):
    mine = hold(departure, traveller, adults=1)
    theirs = hold(departure, UserFactory(), adults=1)

    response = signed_in.get("/bookings/")

    assert response.status_code == 200
    assert list(response.context["bookings"]) == [mine]
    assert theirs.reference not in response.content.decode()


@needs_template("booking_cancel.html")
@pytest.mark.django_db
def test_cancel_page_shows_the_refund(signed_in, ready_booking, django_capture_on_commit_callbacks):
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)

    response = signed_in.get(f"/bookings/{booking.reference}/cancel/")

    assert response.status_code == 200
    assert response.context["quote"].amount.format() == "S/ 875.00"


@pytest.mark.parametrize(
    "path",
    [
        "/bookings/{ref}/",
        "/bookings/{ref}/success/",
        "/bookings/{ref}/status/",
        "/bookings/{ref}/calendar.ics",
        "/bookings/{ref}/cancel/",
    ],
)
@pytest.mark.django_db
def test_another_travellers_booking_pages_are_404(client, held_booking, path):
    client.force_login(UserFactory())

    assert client.get(path.format(ref=held_booking.reference)).status_code == 404


@pytest.mark.parametrize("path", ["/bookings/", "/bookings/KT-AAAAAA/", "/book/1/"])
def test_booking_pages_need_a_signed_in_traveller(client, db, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_paid_booking_then_details_page_redirects_to_the_booking(
    signed_in, ready_booking, django_capture_on_commit_callbacks
):
    booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)

    response = signed_in.get(f"/bookings/{booking.reference}/details/")

    assert response.status_code == 302
    assert response["Location"] == f"/bookings/{booking.reference}/"
    assert booking.payments.get().status == P.SUCCEEDED
