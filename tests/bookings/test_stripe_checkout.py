"""The Stripe path: stripe-python (through bookings.gateway) against the loopback Stripe server."""

from datetime import timedelta

import pytest
import stripe

from bookings import services
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus
from tests.bookings.helpers import BASE_URL, checkout, hold, save_details, snapshot, transitions

B = BookingStatus
P = PaymentStatus
SESSIONS = "/v1/checkout/sessions"


def expected_params(booking: Booking, payment: Payment, *, adult="Adult", child="Child", title=None) -> dict:
    title = title or "Quillabamba Cacao Day"
    metadata = {"booking_id": str(booking.pk), "payment_id": str(payment.pk), "reference": booking.reference}
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "pen", "unit_amount": 35000, "product_data": {"name": f"{title} · {adult}"}},
                "quantity": 2,
            },
            {
                "price_data": {"currency": "pen", "unit_amount": 17500, "product_data": {"name": f"{title} · {child}"}},
                "quantity": 1,
            },
        ],
        "client_reference_id": booking.reference,
        "customer_email": "rosa@example.com",
        "metadata": metadata,
        "payment_intent_data": {"transfer_group": booking.reference, "metadata": metadata},
        "success_url": f"{BASE_URL}/bookings/{booking.reference}/success/?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{BASE_URL}/bookings/{booking.reference}/details/",
        "expires_at": int((payment.created_at + timedelta(minutes=15 + 31)).timestamp()),
        "locale": "en",
    }


@pytest.mark.django_db
def test_checkout_creates_a_session_with_a_line_per_unit_type(stripe_server, ready_booking):
    url = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    payment = Payment.objects.get()
    [request] = stripe_server.requests
    assert (request.method, request.path, request.status) == ("POST", SESSIONS, 200)
    assert request.headers["authorization"] == "Bearer sk_test_fake"
    assert request.idempotency_key == f"checkout-session-{payment.pk}"
    assert request.params == expected_params(ready_booking, payment)

    [session] = stripe_server.sessions.values()
    assert session["id"].startswith("cs_test_")
    assert (session["amount_total"], session["currency"], session["payment_status"], session["status"]) == (
        87500,
        "pen",
        "unpaid",
        "open",
    )
    assert session["payment_intent"] is None
    assert url == f"https://checkout.stripe.com/c/pay/{session['id']}"
    assert (payment.provider, payment.status, payment.amount) == ("stripe", P.CREATED, 87500)
    assert (payment.checkout_session_id, payment.checkout_url) == (session["id"], url)
    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.AWAITING_PAYMENT


@pytest.mark.django_db
def test_checkout_for_adults_only_has_one_line(stripe_server, departure, traveller):
    booking = save_details(hold(departure, traveller, adults=3))

    checkout(booking)

    [request] = stripe_server.requests
    assert request.params["line_items"] == [
        {
            "price_data": {
                "currency": "pen",
                "unit_amount": 35000,
                "product_data": {"name": "Quillabamba Cacao Day · Adult"},
            },
            "quantity": 3,
        }
    ]
    assert next(iter(stripe_server.sessions.values()))["amount_total"] == 105000


@pytest.mark.django_db
def test_checkout_is_in_the_bookings_language(stripe_server, departure, traveller):
    booking = save_details(hold(departure, traveller, adults=1), language="es")

    checkout(booking)

    [request] = stripe_server.requests
    assert request.params["locale"] == "es"
    assert request.params["line_items"][0]["price_data"]["product_data"]["name"].startswith(
        "Día del Cacao en Quillabamba · "
    )


@pytest.mark.django_db
def test_checkout_again_reuses_the_session(stripe_server, ready_booking):
    first = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    second = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert second == first
    assert len(stripe_server.requests) == 1
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("status", [500, 429])
@pytest.mark.django_db
def test_checkout_survives_a_server_error_or_lock_timeout(stripe_server, ready_booking, status):
    stripe_server.fail_next(1, status=status)

    url = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    payment = Payment.objects.get()
    assert [(r.status, r.injected) for r in stripe_server.requests] == [(status, str(status)), (200, "")]
    assert {r.idempotency_key for r in stripe_server.requests} == {f"checkout-session-{payment.pk}"}
    assert stripe_server.requests[0].params == stripe_server.requests[1].params
    assert len(stripe_server.sessions) == 1
    assert payment.checkout_url == url


@pytest.mark.django_db
def test_checkout_survives_two_failures_in_a_row(stripe_server, ready_booking):
    stripe_server.fail_next(1, status=500)
    stripe_server.fail_next(1, status=429)

    services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert [r.status for r in stripe_server.requests] == [500, 429, 200]
    assert len(stripe_server.sessions) == 1


@pytest.mark.django_db
def test_a_plain_rate_limit_is_not_retried_and_changes_nothing_but_the_payment_row(stripe_server, ready_booking):
    stripe_server.fail_next(1, status=429, should_retry=False)

    with pytest.raises(stripe.RateLimitError):
        services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert [r.status for r in stripe_server.requests] == [429]
    payment = Payment.objects.get()
    assert (payment.status, payment.checkout_session_id, payment.checkout_url) == (P.CREATED, None, "")
    assert Booking.objects.get(pk=ready_booking.pk).status == B.HELD


@pytest.mark.django_db
def test_after_three_failures_the_error_surfaces_and_a_retry_creates_one_session(stripe_server, ready_booking):
    stripe_server.fail_next(3, status=500)

    with pytest.raises(stripe.APIError):
        services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert [r.status for r in stripe_server.requests] == [500, 500, 500]  # max_network_retries=2
    assert stripe_server.sessions == {}
    assert Booking.objects.get(pk=ready_booking.pk).status == B.HELD

    url = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    payment = Payment.objects.get()
    assert [r.status for r in stripe_server.requests] == [500, 500, 500, 200]
    assert {r.idempotency_key for r in stripe_server.requests} == {f"checkout-session-{payment.pk}"}
    assert len(stripe_server.sessions) == 1
    assert payment.checkout_url == url
    assert Booking.objects.get(pk=ready_booking.pk).status == B.AWAITING_PAYMENT


@pytest.mark.django_db
def test_a_lost_answer_is_replayed_by_idempotency_not_duplicated(stripe_server, ready_booking):
    """Stripe created the session but every answer was lost; the traveller's retry gets that same session."""
    stripe_server.fail_next(3, status=500, after_running=True)

    with pytest.raises(stripe.APIError):
        services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)
    [session_id] = stripe_server.sessions

    url = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert list(stripe_server.sessions) == [session_id]
    assert url == f"https://checkout.stripe.com/c/pay/{session_id}"
    last = stripe_server.requests[-1]
    assert (last.status, last.replayed) == (200, True)
    assert Payment.objects.get().checkout_session_id == session_id


@pytest.mark.django_db
def test_a_timeout_is_retried_with_the_same_key_and_creates_one_session(stripe_server, ready_booking, settings):
    settings.STRIPE_TIMEOUT_SECONDS = 0.5
    stripe_server.delay_next(1, seconds=1.5)

    url = services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert len(stripe_server.sessions) == 1
    assert url == Payment.objects.get().checkout_url
    stripe_server.wait_idle()
    payment = Payment.objects.get()
    # The retry is answered first; the timed-out request then finds its key used and is a replay.
    assert [(r.status, r.injected, r.replayed, r.idempotency_key) for r in stripe_server.requests] == [
        (200, "", False, f"checkout-session-{payment.pk}"),
        (200, "delay", True, f"checkout-session-{payment.pk}"),
    ]


@pytest.mark.django_db
def test_a_stripe_rejection_leaves_the_booking_held(stripe_server, ready_booking, monkeypatch):
    """An invalid request (here: parameters missing) surfaces as InvalidRequestError; the booking stays held."""
    monkeypatch.setattr(services, "_checkout_params", lambda **kw: {"mode": "payment"})
    before_bookings = snapshot()["bookings"]

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        services.booking_checkout_start(booking=ready_booking, base_url=BASE_URL)

    assert excinfo.value.http_status == 400
    assert excinfo.value.code == "parameter_missing"
    assert snapshot()["bookings"] == before_bookings
    assert transitions(ready_booking)[-1][1] == B.HELD
