"""Departure bulk actions in the admin: close and reopen sales, change capacity (never below the seats
sold or held). Each is tried by a staff user with exactly the permission it needs and by one without."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import CHANGE
from django.db import transaction
from freezegun import freeze_time

from tests.factories import DepartureFactory, TourFactory
from tests.helpers import admin_messages, audit_trail, form_values, post_action, staff_with_permissions
from tours import services
from tours.models import Departure

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=LIMA)
CHANGELIST = "/admin/tours/departure/"
OPERATE = ("tours.view_departure", "tours.change_departure")


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def tour():
    return TourFactory(title_en="Quillabamba Cacao Day")


@pytest.fixture
def first(tour):
    return DepartureFactory(tour=tour, starts_at=datetime(2027, 3, 3, 9, 0, tzinfo=LIMA), capacity=12)


@pytest.fixture
def second(tour):
    return DepartureFactory(tour=tour, starts_at=datetime(2027, 3, 5, 9, 0, tzinfo=LIMA), capacity=8)


@pytest.fixture
def operator(client):
    user = staff_with_permissions(*OPERATE)
    client.force_login(user)
    return user


@pytest.fixture
def viewer(client):
    user = staff_with_permissions("tours.view_departure", email="viewer@kallpa.example")
    client.force_login(user)
    return user


def hold_seats(departure, units, *, expires_at=None):
    with transaction.atomic():
        services.departure_seats_hold(departure_id=departure.pk, units=units, expires_at=expires_at, now=NOW)


def state() -> list[tuple]:
    return list(Departure.objects.order_by("pk").values_list("pk", "status", "capacity", "updated_at"))


# -- close and reopen sales ----------------------------------------------------------------------


def test_close_sales_closes_open_departures_and_says_which_were_left(client, operator, first, second):
    cancelled = DepartureFactory(tour=first.tour, status=Departure.Status.CANCELLED)

    response = post_action(client, CHANGELIST, "close_sales", [first, second, cancelled])

    assert response.status_code == 302
    assert [d.status for d in Departure.objects.order_by("pk")] == ["closed", "closed", "cancelled"]
    assert admin_messages(response) == [
        "Sales closed on 2 departures.",
        f"{cancelled} left as it was (Cancelled).",
    ]
    assert audit_trail(first) == [(CHANGE, "Sales closed", operator.email)]
    assert audit_trail(cancelled) == []


def test_reopen_sales_skips_departures_that_started(client, operator, first):
    started = DepartureFactory(tour=first.tour, starts_at=NOW - timedelta(hours=1), status=Departure.Status.CLOSED)
    Departure.objects.filter(pk=first.pk).update(status=Departure.Status.CLOSED)

    response = post_action(client, CHANGELIST, "reopen_sales", [first, started])

    assert [d.status for d in Departure.objects.order_by("pk")] == ["open", "closed"]
    assert admin_messages(response) == [
        "Sales reopened on 1 departure.",
        f"{started} left as it was (already started).",
    ]
    assert audit_trail(first) == [(CHANGE, "Sales reopened", operator.email)]


def test_close_sales_needs_the_change_permission(client, viewer, first):
    before = state()

    post_action(client, CHANGELIST, "close_sales", [first])

    assert state() == before
    assert audit_trail(first) == []
    assert 'value="close_sales"' not in client.get(CHANGELIST).content.decode()


# -- capacity ----------------------------------------------------------------------------------------


def test_change_capacity_asks_for_the_new_capacity_first(client, operator, first, second):
    hold_seats(first, 3)
    before = state()

    response = post_action(client, CHANGELIST, "change_capacity", [first, second])

    assert response.status_code == 200
    page = response.content.decode()
    assert "Change the capacity of departures" in page
    values = form_values(page)
    assert values["action"] == "change_capacity"
    assert values["_selected_action"] == [str(first.pk), str(second.pk)]
    assert "<td>12</td><td>3</td>" in page.replace("\n", "").replace("    ", "")
    assert state() == before


def test_change_capacity_sets_it_on_every_departure_and_audits_each(client, operator, first, second):
    hold_seats(first, 3)

    response = post_action(client, CHANGELIST, "change_capacity", [first, second], apply="yes", capacity="16")

    assert response.status_code == 302
    assert list(Departure.objects.order_by("pk").values_list("capacity", flat=True)) == [16, 16]
    assert admin_messages(response) == ["Capacity changed on 2 departures."]
    assert audit_trail(first) == [(CHANGE, "Capacity 12 → 16", operator.email)]
    assert audit_trail(second) == [(CHANGE, "Capacity 8 → 16", operator.email)]


def test_capacity_below_the_seats_sold_is_refused_and_nothing_changes(client, operator, first, second):
    hold_seats(first, 5)
    hold_seats(second, 2)
    before = state()

    response = post_action(client, CHANGELIST, "change_capacity", [first, second], apply="yes", capacity="4")

    assert response.status_code == 302
    assert admin_messages(response) == [f"Capacity not changed: {first} has 5 seats sold or held. Nothing was changed."]
    assert state() == before
    assert audit_trail(first) == audit_trail(second) == []


def test_expired_holds_do_not_count_as_seats_sold(first):
    hold_seats(first, 5, expires_at=NOW + timedelta(minutes=15))
    hold_seats(first, 1)

    with pytest.raises(services.DepartureError):
        services.departure_capacity_change(departure_ids=[first.pk], capacity=5, now=NOW)
    changes = services.departure_capacity_change(departure_ids=[first.pk], capacity=1, now=NOW + timedelta(minutes=16))

    assert [(c.departure.pk, c.before, c.after) for c in changes] == [(first.pk, 12, 1)]


def test_a_cancelled_departure_keeps_its_capacity(first):
    Departure.objects.filter(pk=first.pk).update(status=Departure.Status.CANCELLED)

    with pytest.raises(services.DepartureError) as excinfo:
        services.departure_capacity_change(departure_ids=[first.pk], capacity=20)

    assert str(excinfo.value) == f"Capacity not changed: {first} is cancelled. Nothing was changed."


def test_change_capacity_needs_the_change_permission(client, viewer, first):
    before = state()

    post_action(client, CHANGELIST, "change_capacity", [first], apply="yes", capacity="20")

    assert state() == before


def test_status_and_capacity_of_a_departure_change_only_through_the_actions(client, operator, first):
    page = client.get(f"{CHANGELIST}{first.pk}/change/").content.decode()
    fields = form_values(page, "departure_form")

    assert "capacity" not in fields and "status" not in fields
    assert {"tour", "starts_at_0", "starts_at_1", "guide"} <= set(fields)
