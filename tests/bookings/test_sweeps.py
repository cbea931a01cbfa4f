"""What a broker outage loses after a commit, and the periodic ``bookings_sweep`` that makes up for it.

Found by the Redis fault benchmark (bench/faults.py): a payment confirmed while Redis was down
(or whose e-mail task was queued in a Redis that restarted empty) never got its confirmation
e-mail, and nothing ever sent it; a cancellation's refund task lost the same way would leave
the refund pending for good; a charge look-up lost the same way left Stripe's fee out of the
ledger when no share's routing looked the charge up itself.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time
from kombu.exceptions import OperationalError

from bookings import services, tasks
from bookings.models import Booking, BookingStatus, Payment, PaymentStatus, Refund
from tests.bookings.helpers import pay_simulated, pay_with_stripe

NOTHING = {"confirmation_emails": 0, "refunds": 0, "charge_lookups": 0}


def broker_down(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.fixture
def confirmed_while_broker_down(ready_booking, monkeypatch, django_capture_on_commit_callbacks):
    with monkeypatch.context() as patch:
        patch.setattr(tasks.booking_confirmation_send, "delay", broker_down)
        booking = pay_simulated(ready_booking, django_capture_on_commit_callbacks)
    return booking


@pytest.mark.django_db
def test_a_confirmation_whose_email_task_was_lost_is_confirmed_without_the_email(confirmed_while_broker_down):
    booking = confirmed_while_broker_down

    assert (booking.status, booking.confirmation_sent_at) == (BookingStatus.CONFIRMED, None)
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_sweep_sends_a_lost_confirmation_email_once(confirmed_while_broker_down, traveller):
    booking = confirmed_while_broker_down

    with freeze_time(booking.confirmed_at + timedelta(minutes=9)):
        assert tasks.bookings_sweep() == NOTHING  # may still be queued
    assert mail.outbox == []
    with freeze_time(booking.confirmed_at + timedelta(minutes=10)):
        assert tasks.bookings_sweep() == {**NOTHING, "confirmation_emails": 1}
        assert tasks.bookings_sweep() == NOTHING

    assert [m.to for m in mail.outbox] == [[traveller.email]]
    assert booking.reference in mail.outbox[0].subject
    assert Booking.objects.get(pk=booking.pk).confirmation_sent_at is not None


@pytest.mark.django_db
def test_the_sweep_leaves_sent_cancelled_and_day_old_confirmations_alone(confirmed_while_broker_down):
    booking = confirmed_while_broker_down

    with freeze_time(booking.confirmed_at + timedelta(hours=24)):
        assert services.booking_confirmations_unsent() == []  # older than a day: staff's call
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
    with freeze_time(booking.confirmed_at + timedelta(minutes=30)):
        assert services.booking_confirmations_unsent() == []
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED, confirmation_sent_at=timezone.now())
    with freeze_time(booking.confirmed_at + timedelta(minutes=30)):
        assert services.booking_confirmations_unsent() == []

    assert tasks.bookings_sweep() == NOTHING
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_sweep_makes_a_refund_whose_task_was_lost(
    client, stripe_server, ready_booking, traveller, monkeypatch, django_capture_on_commit_callbacks
):
    booking, _event = pay_with_stripe(client, ready_booking, stripe_server, django_capture_on_commit_callbacks)
    payment = booking.payments.get()
    with monkeypatch.context() as patch, django_capture_on_commit_callbacks(execute=True):
        patch.setattr(tasks.refund_execute, "delay", broker_down)
        _booking, refund = services.booking_cancel(booking=booking, actor=traveller, reason="change of plans")
    refund.refresh_from_db()
    assert refund.status == Refund.Status.PENDING
    assert stripe_server.refunds == {}

    with freeze_time(refund.created_at + timedelta(minutes=9)):
        assert tasks.bookings_sweep() == NOTHING
    assert stripe_server.refunds == {}
    with freeze_time(refund.created_at + timedelta(minutes=10)):
        assert tasks.bookings_sweep() == {**NOTHING, "refunds": 1}
        assert tasks.bookings_sweep() == NOTHING

    refund.refresh_from_db()
    payment.refresh_from_db()
    [stripe_refund] = stripe_server.refunds.values()
    assert (refund.status, refund.stripe_refund_id, stripe_refund["amount"]) == (
        Refund.Status.SUCCEEDED,
        stripe_refund["id"],
        87500,
    )
    assert [r.idempotency_key for r in stripe_server.requests_to("POST", "/v1/refunds")] == [f"refund-{payment.pk}-1"]
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 87500)
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.REFUNDED


@pytest.mark.django_db
def test_the_sweep_looks_up_a_charge_whose_task_was_lost(
    client, stripe_server, ready_booking, monkeypatch, django_capture_on_commit_callbacks
):
    with monkeypatch.context() as patch:
        patch.setattr(tasks.payment_charge_record_task, "delay", broker_down)
        booking, _event = pay_with_stripe(client, ready_booking, stripe_server, django_capture_on_commit_callbacks)
    payment = booking.payments.get()
    assert (booking.status, payment.status, payment.charge_id) == (BookingStatus.CONFIRMED, PaymentStatus.SUCCEEDED, "")

    with freeze_time(payment.updated_at + timedelta(minutes=9)):
        assert tasks.bookings_sweep()["charge_lookups"] == 0
    with freeze_time(payment.updated_at + timedelta(minutes=10)):
        assert tasks.bookings_sweep()["charge_lookups"] == 1
        assert tasks.bookings_sweep()["charge_lookups"] == 0

    [intent] = stripe_server.payment_intents.values()
    assert Payment.objects.get(pk=payment.pk).charge_id == intent["latest_charge"]
