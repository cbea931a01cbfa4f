"""The Stripe webhook: signatures, exactly-once handling, out-of-order and late events."""

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus, Refund, StripeEvent
from tests.bookings.helpers import (
    WEBHOOK_URL,
    checkout,
    hold,
    pay_with_stripe,
    post_event,
    save_details,
    seats_left,
    snapshot,
    transitions,
    webhook_url,
)
from tests.factories import UserFactory
from tests.stripe_server import sign
from tours.models import SeatHold

B = BookingStatus
P = PaymentStatus


def age(booking: Booking, minutes: int = 20) -> None:
    """Let the hold of ``booking`` run out (as if ``minutes`` had passed)."""
    past = timezone.now() - timedelta(minutes=minutes)
    Booking.objects.filter(pk=booking.pk).update(expires_at=past)
    SeatHold.objects.filter(pk=booking.hold_id).update(expires_at=past)


@pytest.fixture
def paid_session(stripe_server, ready_booking):
    """A checkout session the traveller has just paid at (the event not delivered yet)."""
    payment = checkout(ready_booking)
    return payment, stripe_server.complete_session(payment.checkout_session_id)


def test_webhook_url():
    assert webhook_url() == WEBHOOK_URL


# -- signatures -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signed_completed_session_confirms_the_booking(
    stripe_server, ready_booking, paid_session, django_capture_on_commit_callbacks
):
    payment, event = paid_session
    session = event["data"]["object"]
    client = Client(enforce_csrf_checks=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event)

    assert response.status_code == 200
    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.CONFIRMED
    assert transitions(booking)[-1] == (B.AWAITING_PAYMENT, B.CONFIRMED, None, "payment received")
    assert (payment.status, payment.amount_received, payment.payment_intent_id) == (
        P.SUCCEEDED,
        87500,
        session["payment_intent"],
    )
    intent = stripe_server.payment_intents[session["payment_intent"]]
    assert payment.charge_id == intent["latest_charge"]
    assert [r.status for r in stripe_server.requests_to("GET", f"/v1/payment_intents/{intent['id']}")] == [200]
    assert intent["transfer_group"] == booking.reference
    record = StripeEvent.objects.get()
    assert (record.event_id, record.type, record.status) == (
        event["id"],
        "checkout.session.completed",
        StripeEvent.Status.PROCESSED,
    )
    assert record.payload == event
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rosa@example.com"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda event: {"secret": "whsec_other"}, id="wrong-secret"),
        pytest.param(lambda event: {"timestamp": int(time.time()) - 301}, id="stale-timestamp"),
        pytest.param(lambda event: {"header": False}, id="missing-header"),
    ],
)
@pytest.mark.django_db
def test_a_bad_signature_is_refused_and_changes_nothing(
    client, paid_session, tamper, django_capture_on_commit_callbacks
):
    _payment, event = paid_session
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_event(client, event, **tamper(event))

    assert response.status_code == 400
    assert snapshot() == before
    assert StripeEvent.objects.count() == 0
    assert callbacks == []


@pytest.mark.django_db
def test_a_timestamp_within_tolerance_is_accepted(client, paid_session, django_capture_on_commit_callbacks):
    _payment, event = paid_session

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event, timestamp=int(time.time()) - 290)

    assert response.status_code == 200
    assert StripeEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_payload_changed_after_signing_is_refused(client, paid_session):
    _payment, event = paid_session
    payload = json.dumps(event).encode()
    header = sign(payload, "whsec_test")
    event["data"]["object"]["amount_total"] = 1
    before = snapshot()

    response = client.post(
        WEBHOOK_URL, data=json.dumps(event).encode(), content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    assert response.status_code == 400
    assert snapshot() == before


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"object": "event"}', b'{"id": "evt_1"}', b"\xff\xfe"], ids=repr
)
@pytest.mark.django_db
def test_a_signed_body_that_is_not_an_event_is_refused(stripe_server, client, body):
    response = client.post(
        WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, "whsec_test")
    )

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_without_a_webhook_secret_every_event_is_refused(client, paid_session, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    _payment, event = paid_session

    response = post_event(client, event, secret="")

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_the_webhook_accepts_only_post(client):
    assert client.get(WEBHOOK_URL).status_code == 405


# -- exactly once -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_event_five_times_is_handled_once(
    client, ready_booking, paid_session, django_capture_on_commit_callbacks
):
    _payment, event = paid_session

    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(client, event).status_code == 200

    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.CONFIRMED
    assert StripeEvent.objects.count() == 1
    assert len(mail.outbox) == 1
    assert [t[1] for t in transitions(booking)].count(B.CONFIRMED) == 1
    assert booking.payments.get().transitions.filter(to_status=P.SUCCEEDED).count() == 1


@pytest.mark.django_db
def test_two_events_for_one_paid_session_confirm_once(
    client, stripe_server, ready_booking, paid_session, django_capture_on_commit_callbacks
):
    _payment, event = paid_session
    other = stripe_server.event("checkout.session.async_payment_succeeded", event["data"]["object"])

    for each in (event, other):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(client, each).status_code == 200

    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.CONFIRMED
    assert StripeEvent.objects.count() == 2
    assert [t[1] for t in transitions(booking)].count(B.CONFIRMED) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_unknown_event_type_is_stored_and_ignored(client, stripe_server, django_capture_on_commit_callbacks):
    event = stripe_server.event("customer.created", {"id": "cus_1", "object": "customer"})

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    assert StripeEvent.objects.get().status == StripeEvent.Status.IGNORED


@pytest.mark.django_db
def test_an_unpaid_completed_session_marks_the_payment_pending(
    client, stripe_server, ready_booking, django_capture_on_commit_callbacks
):
    payment = checkout(ready_booking)
    session = dict(stripe_server.sessions[payment.checkout_session_id], status="complete")
    session.pop("_payment_intent_data")

    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_server.event("checkout.session.completed", session))

    payment.refresh_from_db()
    assert payment.status == P.PENDING
    assert Booking.objects.get(pk=ready_booking.pk).status == B.AWAITING_PAYMENT
    assert mail.outbox == []


# -- out of order, mismatches -------------------------------------------------------------


@pytest.mark.django_db
def test_completed_before_the_session_id_was_stored_still_confirms(
    client, ready_booking, paid_session, django_capture_on_commit_callbacks
):
    """The event overtook our own write of the session id: the metadata finds the payment."""
    payment, event = paid_session
    Payment.objects.filter(pk=payment.pk).update(checkout_session_id=None, checkout_url="")
    Booking.objects.filter(pk=ready_booking.pk).update(status=B.HELD)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    payment.refresh_from_db()
    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.CONFIRMED
    assert transitions(booking)[-1] == (B.HELD, B.CONFIRMED, None, "payment received")
    assert (payment.status, payment.checkout_session_id) == (P.SUCCEEDED, event["data"]["object"]["id"])
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_event_for_an_unknown_session_is_processed_as_a_no_op(
    client, stripe_server, paid_session, django_capture_on_commit_callbacks
):
    _payment, event = paid_session
    event = json.loads(json.dumps(event))
    event["data"]["object"].update(id="cs_test_unknown", metadata={})
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    after = snapshot()
    assert [row[1:] for row in after.pop("events")] == [(event["id"], StripeEvent.Status.PROCESSED)]
    before.pop("events")
    assert after == before


@pytest.mark.parametrize(
    ("changes", "paid"),
    [({"amount_total": 80000}, "80000 PEN"), ({"currency": "usd"}, "87500 USD")],
    ids=["amount", "currency"],
)
@pytest.mark.django_db
def test_an_amount_mismatch_flags_the_booking_instead_of_confirming(
    client, ready_booking, paid_session, changes, paid, django_capture_on_commit_callbacks
):
    payment, event = paid_session
    event["data"]["object"].update(changes)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.AWAITING_PAYMENT
    assert booking.flagged is True
    assert booking.flag_reason == f"Amount paid {paid} does not match the booking total S/ 875.00."
    assert B.CONFIRMED not in [t[1] for t in transitions(booking)]
    assert (payment.status, payment.amount_received) == (P.SUCCEEDED, changes.get("amount_total", 87500))
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_expired_session_expires_the_booking_and_frees_its_seats(
    client, stripe_server, ready_booking, django_capture_on_commit_callbacks
):
    payment = checkout(ready_booking)
    event = stripe_server.expire_session(payment.checkout_session_id)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.EXPIRED
    assert transitions(booking)[-1] == (B.AWAITING_PAYMENT, B.EXPIRED, None, "checkout session expired")
    assert payment.status == P.FAILED
    assert booking.hold.released_at is not None
    assert seats_left(booking.departure) == 10


@pytest.mark.django_db
def test_an_expired_session_of_a_paid_booking_changes_nothing(
    client, stripe_server, ready_booking, django_capture_on_commit_callbacks
):
    _booking, event = pay_with_stripe(client, ready_booking, stripe_server, django_capture_on_commit_callbacks)
    stale = stripe_server.event("checkout.session.expired", dict(event["data"]["object"], status="expired"))
    before = snapshot()

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, stale).status_code == 200

    after = snapshot()
    assert after.pop("events")[-1][2] == StripeEvent.Status.PROCESSED
    before.pop("events")
    assert after == before


# -- refunds and disputes reported by Stripe -------------------------------------------------


@pytest.mark.django_db
def test_charge_refunded_updates_the_refunded_amount_and_status(
    client, stripe_server, ready_booking, django_capture_on_commit_callbacks
):
    booking, _event = pay_with_stripe(client, ready_booking, stripe_server, django_capture_on_commit_callbacks)
    payment = booking.payments.get()

    stripe_server.refund_out_of_band(payment.charge_id, 30000)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, stripe_server.charge_refunded_event(payment.charge_id)).status_code == 200

    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (P.PARTIALLY_REFUNDED, 30000)

    stripe_server.refund_out_of_band(payment.charge_id, 57500)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, stripe_server.charge_refunded_event(payment.charge_id)).status_code == 200

    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == (P.REFUNDED, 87500)
    assert list(payment.transitions.values_list("to_status", flat=True)) == [
        P.CREATED,
        P.SUCCEEDED,
        P.PARTIALLY_REFUNDED,
        P.REFUNDED,
    ]
    # A refund made in Stripe's dashboard does not cancel the booking by itself (staff decide).
    assert Booking.objects.get(pk=booking.pk).status == B.CONFIRMED


@pytest.mark.django_db
def test_an_older_charge_refunded_event_arriving_late_changes_nothing(
    client, stripe_server, ready_booking, django_capture_on_commit_callbacks
):
    booking, _event = pay_with_stripe(client, ready_booking, stripe_server, django_capture_on_commit_callbacks)
    charge_id = booking.payments.get().charge_id
    stripe_server.refund_out_of_band(charge_id, 30000)
    older = stripe_server.charge_refunded_event(charge_id)
    stripe_server.refund_out_of_band(charge_id, 20000)
    newer = stripe_server.charge_refunded_event(charge_id)

    for event in (newer, older):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(client, event).status_code == 200

    payment = booking.payments.get()
    assert (payment.status, payment.amount_refunded) == (P.PARTIALLY_REFUNDED, 50000)


@pytest.mark.parametrize("charge_known", [True, False], ids=["by-charge", "by-payment-intent"])
@pytest.mark.django_db
def test_a_dispute_flags_the_booking(
    client, stripe_server, ready_booking, charge_known, django_capture_on_commit_callbacks
):
    booking, _event = pay_with_stripe(client, ready_booking, stripe_server, django_capture_on_commit_callbacks)
    payment = booking.payments.get()
    event = stripe_server.dispute_event(payment.charge_id, reason="fraudulent")
    if not charge_known:
        Payment.objects.filter(pk=payment.pk).update(charge_id="")

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    booking.refresh_from_db()
    assert booking.flagged is True
    assert booking.flag_reason == "Payment disputed (S/ 875.00 at risk): fraudulent"
    assert booking.status == B.CONFIRMED


# -- payment after the hold ran out ---------------------------------------------------------


@pytest.mark.parametrize("beat_ran", [False, True], ids=["hold-lapsed", "hold-released"])
@pytest.mark.django_db
def test_late_payment_with_seats_still_free_is_confirmed(
    client, ready_booking, paid_session, beat_ran, django_capture_on_commit_callbacks
):
    _payment, event = paid_session
    age(ready_booking)
    if beat_ran:
        assert services.booking_expire_holds() == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    booking = Booking.objects.get(pk=ready_booking.pk)
    assert booking.status == B.CONFIRMED
    expected_tail = [(B.AWAITING_PAYMENT, B.EXPIRED, None, "hold expired")] if beat_ran else []
    expected_tail.append((B.EXPIRED if beat_ran else B.AWAITING_PAYMENT, B.CONFIRMED, None, "payment received"))
    assert transitions(booking)[-len(expected_tail) :] == expected_tail
    assert (booking.hold.expires_at, booking.hold.released_at) == (None, None)
    assert seats_left(booking.departure) == 7
    assert Refund.objects.count() == 0
    assert len(mail.outbox) == 1
    assert len(mail.outbox[0].attachments) == 1  # the confirmation, with its .ics


@pytest.mark.parametrize("beat_ran", [False, True], ids=["hold-lapsed", "hold-released"])
@pytest.mark.django_db
def test_late_payment_with_seats_taken_is_refunded_and_the_traveller_told(
    client, stripe_server, departure, ready_booking, paid_session, beat_ran, django_capture_on_commit_callbacks
):
    payment, event = paid_session
    age(ready_booking)
    if beat_ran:
        services.booking_expire_holds()
    others = hold(departure, UserFactory(), adults=8)  # only 2 seats left for a booking of 3

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    booking = Booking.objects.get(pk=ready_booking.pk)
    payment.refresh_from_db()
    assert booking.status == B.REFUNDED
    assert transitions(booking)[-2:] == [
        (B.AWAITING_PAYMENT, B.EXPIRED, None, "hold expired" if beat_ran else "hold expired before payment"),
        (B.EXPIRED, B.REFUNDED, None, "paid after the seats were gone: refunded"),
    ]
    refund = Refund.objects.get()
    assert (refund.payment, refund.amount, refund.status, refund.reason) == (
        payment,
        87500,
        Refund.Status.SUCCEEDED,
        "seats no longer available",
    )
    assert refund.idempotency_key == f"refund-{payment.pk}-1"
    [call] = stripe_server.requests_to("POST", "/v1/refunds")
    assert call.idempotency_key == f"refund-{payment.pk}-1"
    assert call.params == {
        "payment_intent": event["data"]["object"]["payment_intent"],
        "amount": 87500,
        "metadata": {"booking": booking.reference, "refund_id": str(refund.pk)},
    }
    assert refund.stripe_refund_id in stripe_server.refunds
    assert stripe_server.charges[payment.charge_id]["amount_refunded"] == 87500
    assert (payment.status, payment.amount_received, payment.amount_refunded) == (P.REFUNDED, 87500, 87500)
    assert Booking.objects.get(pk=others.pk).status == B.HELD
    assert seats_left(departure) == 2

    [message] = mail.outbox
    assert message.to == ["rosa@example.com"]
    assert booking.reference in message.subject
    assert message.attachments == []  # no calendar entry for a trip that is not happening


@pytest.mark.django_db
def test_a_late_payment_refund_survives_a_stripe_hiccup(
    client, stripe_server, departure, ready_booking, paid_session, django_capture_on_commit_callbacks
):
    _payment, event = paid_session
    age(ready_booking)
    hold(departure, UserFactory(), adults=8)
    stripe_server.fail_next(1, status=500)  # the next call to Stripe: the refund

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, event).status_code == 200

    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED
    assert [(r.status, r.idempotency_key) for r in stripe_server.requests_to("POST", "/v1/refunds")] == [
        (500, refund.idempotency_key),
        (200, refund.idempotency_key),
    ]
    assert list(stripe_server.refunds) == [refund.stripe_refund_id]


@pytest.mark.django_db
def test_save_details_then_pay_in_spanish(
    client, stripe_server, departure, traveller, django_capture_on_commit_callbacks
):
    booking = save_details(hold(departure, traveller, adults=1), language="es")

    booking, _event = pay_with_stripe(client, booking, stripe_server, django_capture_on_commit_callbacks)

    assert booking.status == B.CONFIRMED
    assert booking.language == "es"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_with_the_broker_down_the_event_is_handled_in_the_request(
    monkeypatch, ready_booking, paid_session, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from bookings import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.stripe_event_process, "delay", broker_down)
    _payment, event = paid_session

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(Client(), event)

    assert response.status_code == 200
    assert Booking.objects.get(pk=ready_booking.pk).status == B.CONFIRMED
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED
