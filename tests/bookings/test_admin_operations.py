"""Booking operations in the admin, each through the admin with the right and the wrong group.

Move to another departure, partial refund, resend the confirmation, internal notes, resolve a
flag, contact details; search and filters; the booking page's history and audit trail. Bad input
gets a clear message and changes nothing. The time is frozen on Monday 2 March 2026, 09:00 in Lima.
"""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from freezegun import freeze_time

from bookings import services
from bookings.models import Booking, BookingNote, PaymentStatus, Refund
from tests.bookings.helpers import hold, pay_simulated, save_details, seats_left, snapshot, starts_in, transitions
from tests.factories import DepartureFactory, UserFactory
from tours.models import Departure, SeatHold

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday_morning():
    with freeze_time("2026-03-02 14:00:00+00:00", tick=True):  # 09:00 in Lima
        yield


@pytest.fixture
def confirmed(departure, traveller, django_capture_on_commit_callbacks) -> Booking:
    """2 adults + 1 child on the departure of Wed 1 Apr 2026, 09:00: S/ 875.00, paid, confirmed, e-mailed."""
    booking = pay_simulated(
        save_details(hold(departure, traveller, adults=2, children=1)), django_capture_on_commit_callbacks
    )
    assert booking.status == "confirmed" and booking.total_amount == 87500
    mail.outbox.clear()
    return booking


@pytest.fixture
def later(tour) -> Departure:
    """Another departure of the same tour: Wed 8 Apr 2026, 09:00, capacity 10."""
    return DepartureFactory(tour=tour, starts_at=starts_in(37), capacity=10)


def url(name: str, booking) -> str:
    return reverse(f"admin:bookings_booking_{name}", args=[booking.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def audit(booking) -> list[tuple[str, str]]:
    entries = LogEntry.objects.filter(content_type__model="booking", object_id=str(booking.pk)).order_by("id")
    return [(entry.user.email, entry.get_change_message()) for entry in entries]


def state() -> dict:
    """Everything a booking operation could change (snapshot() plus departures, holds and notes)."""
    return snapshot() | {
        "placement": list(Booking.objects.order_by("pk").values_list("pk", "departure_id", "hold_id")),
        "notes": list(BookingNote.objects.order_by("pk").values_list("pk", "kind", "text")),
        "log": LogEntry.objects.count(),
    }


# -- move to another departure -----------------------------------------------------------------------


def test_operations_moves_a_booking_to_another_departure(
    operations_client, confirmed, departure, later, django_capture_on_commit_callbacks
):
    old_hold = confirmed.hold
    assert (seats_left(departure), seats_left(later)) == (7, 10)

    with django_capture_on_commit_callbacks(execute=True):
        response = operations_client.post(url("move", confirmed), {"departure": later.pk, "notify": "on"})

    assert response.status_code == 302 and response.url == url("change", confirmed)
    confirmed.refresh_from_db()
    old_hold.refresh_from_db()
    assert confirmed.departure == later and confirmed.status == "confirmed"
    assert confirmed.total_amount == 87500  # the paid price is kept
    assert (confirmed.hold.units, confirmed.hold.expires_at, confirmed.hold.released_at) == (3, None, None)
    assert old_hold.released_at is not None
    assert (seats_left(departure), seats_left(later)) == (10, 7)
    moved = "Moved from the departure of Wed 1 Apr 2026, 09:00 to the departure of Wed 8 Apr 2026, 09:00."
    note = BookingNote.objects.get(booking=confirmed)
    assert (note.kind, note.text, note.author) == ("moved", moved, operations_client.user)
    message = f"{moved} The updated confirmation is e-mailed to rosa@example.com."
    assert audit(confirmed) == [("ops@kallpa.example", message)]
    assert message in messages_of(operations_client.get(url("change", confirmed)))
    assert [m.to for m in mail.outbox] == [["rosa@example.com"]]  # the confirmation, with the new date
    assert confirmed.reference in mail.outbox[0].subject


def test_a_move_without_notification_sends_nothing(operations_client, confirmed, later):
    response = operations_client.post(url("move", confirmed), {"departure": later.pk})

    assert response.status_code == 302
    assert Booking.objects.get(pk=confirmed.pk).departure == later
    assert mail.outbox == []


def test_move_to_a_departure_with_exactly_enough_seats(operations_client, confirmed, tour, traveller):
    tight = DepartureFactory(tour=tour, starts_at=starts_in(40), capacity=5)
    hold(tight, UserFactory(), adults=2)  # 3 seats left, the booking needs 3

    response = operations_client.post(url("move", confirmed), {"departure": tight.pk})

    assert response.status_code == 302
    assert seats_left(tight) == 0


def test_move_to_a_full_departure_is_refused_and_changes_nothing(operations_client, confirmed, tour):
    full = DepartureFactory(tour=tour, starts_at=starts_in(40), capacity=4)
    hold(full, UserFactory(), adults=2)  # 2 seats left, the booking needs 3
    before = state()

    response = operations_client.post(url("move", confirmed), {"departure": full.pk})

    assert response.status_code == 200
    assert messages_of(response) == [
        "The departure of Sat 11 Apr 2026, 09:00 is full: 2 seats left, this booking needs 3."
    ]
    assert state() == before


def test_move_to_a_past_departure_is_refused_and_changes_nothing(operations_client, confirmed, tour):
    past = DepartureFactory(tour=tour, starts_at=starts_in(-1), capacity=10)
    before = state()

    response = operations_client.post(url("move", confirmed), {"departure": past.pk})

    assert messages_of(response) == [
        "The departure of Sun 1 Mar 2026, 09:00 has already started: choose a future departure."
    ]
    assert state() == before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda tour: DepartureFactory(starts_at=starts_in(40)),
            "A booking can only move to another departure of the same tour.",
        ),
        (
            lambda tour: DepartureFactory(tour=tour, starts_at=starts_in(40), status=Departure.Status.CLOSED),
            "The departure of Sat 11 Apr 2026, 09:00 is not open (Sales closed).",
        ),
        (lambda tour: None, "This departure does not exist."),
    ],
    ids=["other tour", "sales closed", "no such departure"],
)
def test_other_bad_moves_are_refused(operations_client, confirmed, tour, make, message):
    target = make(tour)
    before = state()

    response = operations_client.post(url("move", confirmed), {"departure": target.pk if target else 999999})

    assert messages_of(response) == [message]
    assert state() == before


def test_a_booking_is_not_moved_onto_its_own_departure(operations_client, confirmed, departure):
    before = state()
    response = operations_client.post(url("move", confirmed), {"departure": departure.pk})
    assert messages_of(response) == ["The booking is already on this departure."]
    assert state() == before


def test_only_confirmed_bookings_move(operations_client, departure, later, traveller):
    held = save_details(hold(departure, traveller, adults=1))
    before = state()

    response = operations_client.post(url("move", held), {"departure": later.pk})

    assert messages_of(response) == ["Only a confirmed booking can be moved."]
    assert state() == before


def test_finance_cannot_move_a_booking(finance_client, confirmed, later):
    before = state()

    assert finance_client.get(url("move", confirmed)).status_code == 403
    assert finance_client.post(url("move", confirmed), {"departure": later.pk}).status_code == 403
    assert state() == before


def test_the_move_page_lists_departures_and_the_price_difference(operations_client, confirmed, tour, later):
    DepartureFactory(tour=tour, starts_at=starts_in(-2))  # past: not offered
    tour.adult_price, tour.child_price = 40000, 20000  # the tour costs more now: S/ 1,000.00
    tour.save()

    page = operations_client.get(url("move", confirmed)).content.decode()

    assert "Wed 8 Apr 2026, 09:00 — 10 of 10 seats left · Domingo" in page
    assert "Sat 28 Feb 2026" not in page
    assert "S/ 875.00" in page and "S/ 1,000.00" in page and "S/ 125.00" in page


# -- partial refund ----------------------------------------------------------------------------------


def test_finance_refunds_part_of_a_booking(finance_client, confirmed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = finance_client.post(url("refund", confirmed), {"amount": "120.50", "reason": "Guide was late"})

    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.status, refund.created_by) == (
        12050,
        "Guide was late",
        "succeeded",
        finance_client.user,
    )
    payment = confirmed.payments.get()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.PARTIALLY_REFUNDED, 12050)
    assert Booking.objects.get(pk=confirmed.pk).status == "confirmed"
    assert audit(confirmed) == [
        ("finance@kallpa.example", f"Refund #{refund.pk} of S/ 120.50 requested (reason: Guide was late).")
    ]


def test_refunds_up_to_exactly_what_remains(finance_client, confirmed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(url("refund", confirmed), {"amount": "800", "reason": "first"})
        finance_client.post(url("refund", confirmed), {"amount": "75.00", "reason": "the rest"})

    payment = confirmed.payments.get()
    assert (payment.status, payment.amount_refunded) == (PaymentStatus.REFUNDED, 87500)
    assert list(Refund.objects.order_by("id").values_list("amount", flat=True)) == [80000, 7500]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("875.01", "The refund is more than what remains of the payment (S/ 875.00)."),
        ("0", "A refund must be more than zero."),
        ("0.00", "A refund must be more than zero."),
        ("-5.00", "A refund must be more than zero."),
    ],
)
def test_bad_refund_amounts_are_refused_and_change_nothing(finance_client, confirmed, amount, message):
    before = state()

    response = finance_client.post(url("refund", confirmed), {"amount": amount, "reason": "goodwill"})

    assert response.status_code == 200
    assert messages_of(response) == [message]
    assert state() == before


def test_a_pending_refund_counts_against_what_remains(finance_client, confirmed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # Stripe has not been asked yet
        finance_client.post(url("refund", confirmed), {"amount": "800.00", "reason": "first"}, follow=True)
    before = state()

    response = finance_client.post(url("refund", confirmed), {"amount": "75.01", "reason": "too much"})

    assert messages_of(response) == ["The refund is more than what remains of the payment (S/ 75.00)."]
    assert state() == before
    assert "S/ 75.00" in finance_client.get(url("refund", confirmed)).content.decode()  # can still be refunded


def test_a_refund_needs_a_reason(finance_client, confirmed):
    before = state()
    response = finance_client.post(url("refund", confirmed), {"amount": "10", "reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert state() == before


def test_a_booking_without_a_payment_cannot_be_refunded(finance_client, departure, traveller):
    held = save_details(hold(departure, traveller, adults=1))
    response = finance_client.post(url("refund", held), {"amount": "10", "reason": "x"})
    assert messages_of(response) == ["This booking has no payment left to refund."]
    assert not Refund.objects.exists()


def test_operations_cannot_refund(operations_client, confirmed):
    before = state()

    assert operations_client.get(url("refund", confirmed)).status_code == 403
    assert operations_client.post(url("refund", confirmed), {"amount": "10", "reason": "x"}).status_code == 403
    assert state() == before


# -- resend the confirmation --------------------------------------------------------------------------


def test_operations_resends_the_confirmation(operations_client, confirmed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = operations_client.post(url("resend", confirmed))

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["rosa@example.com"]]
    assert audit(confirmed) == [("ops@kallpa.example", "Confirmation e-mail sent again to rosa@example.com.")]
    assert Booking.objects.get(pk=confirmed.pk).confirmation_sent_at is not None


def test_resend_needs_a_confirmed_booking_and_the_permission(
    operations_client, finance_client, departure, traveller, confirmed
):
    held = save_details(hold(departure, traveller, adults=1))
    before = state()

    assert messages_of(operations_client.post(url("resend", held))) == [
        "Only a confirmed booking has a confirmation to send."
    ]
    assert finance_client.post(url("resend", confirmed)).status_code == 403
    assert state() == before


# -- internal notes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("client_fixture", ["operations_client", "finance_client"])
def test_both_groups_add_internal_notes(request, confirmed, client_fixture):
    client = request.getfixturevalue(client_fixture)

    response = client.post(url("note", confirmed), {"text": "  Asked for a vegetarian lunch.  "})

    assert response.status_code == 302
    note = BookingNote.objects.get()
    assert (note.kind, note.text, note.author) == ("note", "Asked for a vegetarian lunch.", client.user)
    assert audit(confirmed) == [(client.user.email, "Internal note added: Asked for a vegetarian lunch.")]
    page = client.get(url("change", confirmed)).content.decode()
    assert "Asked for a vegetarian lunch." in page and client.user.email in page


def test_an_empty_note_is_refused(operations_client, confirmed):
    before = state()
    response = operations_client.post(url("note", confirmed), {"text": "   "})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert state() == before


def test_a_staff_member_without_the_permission_cannot_add_notes(client, confirmed):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_booking"))
    client.force_login(viewer)

    assert client.get(url("change", confirmed)).status_code == 200
    assert client.post(url("note", confirmed), {"text": "hi"}).status_code == 403
    assert not BookingNote.objects.exists()


# -- resolve a flag -----------------------------------------------------------------------------------


@pytest.fixture
def disputed(confirmed) -> Booking:
    services.booking_flag(booking_id=confirmed.pk, reason="Payment disputed (S/ 875.00 at risk): fraudulent")
    return Booking.objects.get(pk=confirmed.pk)


def test_finance_resolves_a_flag_with_a_note(finance_client, disputed):
    response = finance_client.post(url("resolve_flag", disputed), {"note": "Dispute won: evidence sent."})

    assert response.status_code == 302
    disputed.refresh_from_db()
    assert (disputed.flagged, disputed.flag_reason) == (False, "")
    text = "Flag “Payment disputed (S/ 875.00 at risk): fraudulent” resolved: Dispute won: evidence sent."
    note = BookingNote.objects.get()
    assert (note.kind, note.text, note.author) == ("flag_resolved", text, finance_client.user)
    assert audit(disputed) == [("finance@kallpa.example", text)]


def test_resolving_needs_a_note_a_flag_and_the_permission(finance_client, operations_client, disputed, confirmed):
    before = state()

    response = finance_client.post(url("resolve_flag", disputed), {"note": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert operations_client.post(url("resolve_flag", disputed), {"note": "done"}).status_code == 403
    assert state() == before

    finance_client.post(url("resolve_flag", disputed), {"note": "done"}, follow=True)
    after = state()
    response = finance_client.post(url("resolve_flag", disputed), {"note": "again"})
    assert messages_of(response) == ["This booking is not flagged."]
    assert state() == after


# -- contact details ----------------------------------------------------------------------------------


def contact_form(booking, **changes) -> dict:
    data = {
        "contact_name": booking.contact_name,
        "contact_email": booking.contact_email,
        "contact_phone": booking.contact_phone,
        "emergency_contact_name": booking.emergency_contact_name,
        "emergency_contact_phone": booking.emergency_contact_phone,
        "language": booking.language,
        # the inlines' management forms (read-only inlines still post them)
        "participants-TOTAL_FORMS": "0",
        "participants-INITIAL_FORMS": "0",
        "payments-TOTAL_FORMS": "0",
        "payments-INITIAL_FORMS": "0",
    }
    return data | changes


def test_operations_corrects_contact_details_and_nothing_else(operations_client, confirmed):
    data = contact_form(confirmed, contact_email="rosa.quispe@example.com", status="cancelled", flagged="on")

    response = operations_client.post(url("change", confirmed), data)

    assert response.status_code == 302
    confirmed.refresh_from_db()
    assert (confirmed.contact_email, confirmed.status, confirmed.flagged) == (
        "rosa.quispe@example.com",
        "confirmed",
        False,
    )
    assert audit(confirmed) == [("ops@kallpa.example", "Changed Contact e-mail.")]


def test_finance_cannot_change_contact_details(finance_client, confirmed):
    response = finance_client.post(url("change", confirmed), contact_form(confirmed, contact_email="x@example.com"))

    assert response.status_code == 403
    assert Booking.objects.get(pk=confirmed.pk).contact_email == "rosa@example.com"


# -- the page: operations, history, audit trail -----------------------------------------------------------


def test_the_page_offers_each_group_its_operations(operations_client, finance_client, disputed):
    ops = operations_client.get(url("change", disputed)).content.decode()
    fin = finance_client.get(url("change", disputed)).content.decode()

    for name in ("move", "resend", "note"):
        assert url(name, disputed) in ops
    for name in ("refund", "resolve_flag"):
        assert url(name, disputed) not in ops
        assert url(name, disputed) in fin
    assert url("move", disputed) not in fin
    assert "Needs staff attention: Payment disputed (S/ 875.00 at risk): fraudulent" in fin


def test_the_page_shows_every_transition_refund_note_and_audit_entry(
    finance_client, confirmed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(url("refund", confirmed), {"amount": "50", "reason": "Rain all day"})
    finance_client.post(url("note", confirmed), {"text": "Called the traveller."})

    response = finance_client.get(url("change", confirmed))
    page = response.content.decode()

    payment = confirmed.payments.get().pk
    history = [(item.what, item.detail, item.actor) for item in response.context["history"]]
    assert history == [
        ("Booking: — → Seats held", "seats held", "rosa@example.com"),
        (f"Payment #{payment}: — → Created", "checkout started", "system"),
        ("Booking: Seats held → Awaiting payment", "sent to checkout", "rosa@example.com"),
        (f"Payment #{payment}: Created → Succeeded", "checkout session paid", "system"),
        ("Booking: Awaiting payment → Confirmed", "payment received", "system"),
        ("Refund of S/ 50.00 (Succeeded)", "Rain all day", "finance@kallpa.example"),
        (
            f"Payment #{payment}: Succeeded → Partially refunded",
            f"refund {Refund.objects.get().stripe_refund_id}",
            "system",
        ),
        ("Internal note", "Called the traveller.", "finance@kallpa.example"),
    ]
    assert len(transitions(confirmed)) == 3
    assert "Audit trail" in page
    assert "Internal note added: Called the traveller." in page
    assert f"Refund #{Refund.objects.get().pk} of S/ 50.00 requested (reason: Rain all day)." in page


def test_the_page_needs_the_view_permission(client, confirmed):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url("change", confirmed)).status_code == 403
    assert client.post(url("note", confirmed), {"text": "x"}).status_code == 403


def test_non_staff_are_sent_to_the_login(client, confirmed, later):
    client.force_login(UserFactory())
    response = client.post(url("move", confirmed), {"departure": later.pk})
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert Booking.objects.get(pk=confirmed.pk).departure_id == confirmed.departure_id


# -- search and filters --------------------------------------------------------------------------------


def test_search_by_reference_name_or_email(operations_client, confirmed, tour):
    other = save_details(hold(DepartureFactory(tour=tour), UserFactory(email="juan@example.com", first_name="Juan")))
    changelist = reverse("admin:bookings_booking_changelist")

    def found(q):
        return list(operations_client.get(changelist, {"q": q}).context["cl"].result_list)

    assert found(confirmed.reference) == [confirmed]
    assert found(confirmed.reference.lower()) == [confirmed]
    assert found("rosa@example") == [confirmed]
    assert found("juan@example") == [other]
    assert found("Ana Quispe") == [confirmed]  # a participant's name


def test_filters_by_status_route_departure_date_and_flag(operations_client, disputed, tour, traveller):
    today = DepartureFactory(tour=tour, starts_at=starts_in(0, hour=15))
    held_today = hold(today, traveller, adults=1)
    elsewhere = save_details(hold(DepartureFactory(starts_at=starts_in(3)), traveller, adults=1))
    changelist = reverse("admin:bookings_booking_changelist")

    def found(**params):
        response = operations_client.get(changelist, params)
        assert response.status_code == 200
        return set(response.context["cl"].result_list)

    assert found(status__exact="confirmed") == {disputed}
    assert found(flagged__exact="1") == {disputed}
    assert found(departs="today") == {held_today}
    assert found(departs="week") == {held_today, elsewhere}
    assert found(departs="month") == {held_today, elsewhere}  # 1 April is next month
    assert found(**{"departure__tour__route__id__exact": tour.route_id}) == {disputed, held_today}
    assert found(hold="active") == {held_today, elsewhere}
    assert found(hold="expiring") == set()
    with freeze_time(held_today.expires_at - timedelta(minutes=4)):
        assert found(hold="expiring") == {held_today, elsewhere}
    assert found(confirmed="month") == {disputed}


def test_the_page_query_count_does_not_grow_with_its_history(operations_client, confirmed):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert operations_client.get(url("change", confirmed)).status_code == 200
        return len(queries)

    services.booking_note_add(booking_id=confirmed.pk, author=operations_client.user, text="first")
    count()  # warm the caches (content types, permissions)
    one = count()
    for i in range(5):
        services.booking_note_add(booking_id=confirmed.pk, author=operations_client.user, text=f"note {i}")
        operations_client.post(url("note", confirmed), {"text": f"logged {i}"})
    assert count() == one


def test_seat_holds_of_moved_bookings_stay_consistent(operations_client, confirmed, later):
    operations_client.post(url("move", confirmed), {"departure": later.pk})
    operations_client.post(url("move", confirmed), {"departure": confirmed.departure_id})

    booking = Booking.objects.get(pk=confirmed.pk)
    assert booking.departure_id == confirmed.departure_id
    active = SeatHold.objects.filter(released_at__isnull=True)
    assert list(active.values_list("departure_id", "units")) == [(confirmed.departure_id, 3)]
    assert BookingNote.objects.filter(kind="moved").count() == 2
