"""Recurring departures: a schedule generates departures; regenerating never duplicates and never
touches a departure that has bookings. The scene: Mondays, Wednesdays and Fridays at 09:00 (Lima),
1–14 March 2027, 10 seats with Domingo, no departure on Friday 5 March (a festival)."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.core.exceptions import ValidationError
from django.db import transaction
from freezegun import freeze_time

from tests.factories import DepartureFactory, TourFactory
from tests.helpers import audit_trail, form_values, post_action, staff_with_permissions
from tours import services
from tours.models import Departure, DepartureSchedule, ScheduleException

pytestmark = pytest.mark.django_db
LIMA = ZoneInfo("America/Lima")
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=LIMA)  # Monday, an hour before the first departure


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2027, 3, day, hour, 0, tzinfo=LIMA)


@pytest.fixture
def schedule():
    tour = TourFactory(title_en="Quillabamba Cacao Day")
    schedule = DepartureSchedule.objects.create(
        tour=tour,
        weekdays="1,3,5",
        start_time=time(9, 0),
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 3, 14),
        capacity=10,
        guide="Domingo",
    )
    ScheduleException.objects.create(schedule=schedule, date=date(2027, 3, 5), reason="Festival")
    return schedule


def departures(schedule=None) -> list[tuple]:
    query = Departure.objects.order_by("starts_at")
    if schedule is not None:
        query = query.filter(tour=schedule.tour)
    return [
        (d.starts_at.astimezone(LIMA).strftime("%a %d %H:%M"), d.capacity, d.guide, d.status, d.schedule_id)
        for d in query
    ]


def book(departure, units=2):
    """A seat hold on the departure: what every booking has (the tours side of "has bookings")."""
    with transaction.atomic():
        services.departure_seats_hold(departure_id=departure.pk, units=units, expires_at=None, now=NOW)


def test_a_schedule_generates_its_departures_skipping_exceptions(schedule):
    run = services.departures_generate(schedule_id=schedule.pk, now=NOW)

    assert departures(schedule) == [
        ("Mon 01 09:00", 10, "Domingo", "open", schedule.pk),
        ("Wed 03 09:00", 10, "Domingo", "open", schedule.pk),
        ("Mon 08 09:00", 10, "Domingo", "open", schedule.pk),
        ("Wed 10 09:00", 10, "Domingo", "open", schedule.pk),
        ("Fri 12 09:00", 10, "Domingo", "open", schedule.pk),
    ]
    assert [d.starts_at for d in run.created] == [at(1), at(3), at(8), at(10), at(12)]
    assert run.exceptions == [date(2027, 3, 5)]
    assert (run.updated, run.removed, run.kept_booked, run.taken, run.unchanged) == ([], [], [], [], 0)


def test_generating_again_creates_nothing(schedule):
    services.departures_generate(schedule_id=schedule.pk, now=NOW)
    before = list(Departure.objects.order_by("pk").values_list("pk", "starts_at", "capacity", "guide", "updated_at"))

    run = services.departures_generate(schedule_id=schedule.pk, now=NOW)

    assert (run.created, run.updated, run.removed, run.unchanged) == ([], [], [], 5)
    assert list(Departure.objects.order_by("pk").values_list("pk", "starts_at", "capacity", "guide", "updated_at")) == (
        before
    )


def test_past_dates_are_not_generated(schedule):
    run = services.departures_generate(schedule_id=schedule.pk, now=at(10, 10))

    assert [d.starts_at for d in run.created] == [at(12)]


def test_regenerating_follows_the_schedule_but_never_touches_booked_departures(schedule):
    services.departures_generate(schedule_id=schedule.pk, now=NOW)
    wednesday = Departure.objects.get(starts_at=at(3))
    book(wednesday)
    booked_before = Departure.objects.filter(pk=wednesday.pk).values("capacity", "guide", "status", "updated_at")[0]
    monday_8 = Departure.objects.get(starts_at=at(8))
    schedule.capacity, schedule.guide = 12, "Rosa"
    schedule.save()
    ScheduleException.objects.create(schedule=schedule, date=date(2027, 3, 3))  # booked: must stay
    ScheduleException.objects.create(schedule=schedule, date=date(2027, 3, 8))  # free: removed

    run = services.departures_generate(schedule_id=schedule.pk, now=NOW)

    assert departures(schedule) == [
        ("Mon 01 09:00", 12, "Rosa", "open", schedule.pk),
        ("Wed 03 09:00", 10, "Domingo", "open", schedule.pk),
        ("Wed 10 09:00", 12, "Rosa", "open", schedule.pk),
        ("Fri 12 09:00", 12, "Rosa", "open", schedule.pk),
    ]
    assert Departure.objects.filter(pk=wednesday.pk).values("capacity", "guide", "status", "updated_at")[0] == (
        booked_before
    )
    assert [(d.starts_at, changes) for d, changes in run.updated] == [
        (at(day), ["Capacity 10 → 12", "Guide Domingo → Rosa"]) for day in (1, 10, 12)
    ]
    assert [pk for pk, _description in run.removed] == [monday_8.pk]
    assert run.kept_booked == [wednesday]
    assert run.exceptions == [date(2027, 3, 3), date(2027, 3, 5), date(2027, 3, 8)]
    assert run.created == []


def test_a_booked_departure_that_the_schedule_still_wants_is_left_as_it_was(schedule):
    services.departures_generate(schedule_id=schedule.pk, now=NOW)
    booked = Departure.objects.get(starts_at=at(1))
    book(booked)
    schedule.capacity = 14
    schedule.save()

    run = services.departures_generate(schedule_id=schedule.pk, now=NOW)

    assert run.kept_booked == [booked]
    assert Departure.objects.get(pk=booked.pk).capacity == 10
    assert len(run.updated) == 4


def test_a_departure_outside_the_schedule_at_the_same_time_is_left_alone(schedule):
    manual = DepartureFactory(tour=schedule.tour, starts_at=at(1), capacity=4, guide="Ana")

    run = services.departures_generate(schedule_id=schedule.pk, now=NOW)

    assert run.taken == [manual]
    assert Departure.objects.filter(tour=schedule.tour, starts_at=at(1)).count() == 1
    manual.refresh_from_db()
    assert (manual.capacity, manual.guide, manual.schedule_id) == (4, "Ana", None)
    assert len(run.created) == 4


def test_a_departure_cancelled_by_staff_stays_cancelled(schedule):
    services.departures_generate(schedule_id=schedule.pk, now=NOW)
    Departure.objects.filter(starts_at=at(10)).update(status=Departure.Status.CANCELLED)

    run = services.departures_generate(schedule_id=schedule.pk, now=NOW)

    assert Departure.objects.get(starts_at=at(10)).status == Departure.Status.CANCELLED
    assert (run.created, run.unchanged) == ([], 5)


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        (
            {"starts_on": date(2027, 3, 14), "ends_on": date(2027, 3, 1)},
            ["The last day of a schedule cannot be before its first day."],
        ),
        ({"weekdays": []}, ["Choose at least one weekday."]),
        ({"weekdays": [8]}, ["Choose at least one weekday."]),
        ({"capacity": 0}, ["Capacity must be at least 1."]),
    ],
)
def test_schedule_validate_refuses_what_cannot_generate(fields, messages):
    values = {"weekdays": [1], "starts_on": date(2027, 3, 1), "ends_on": date(2027, 3, 14), "capacity": 10}
    with pytest.raises(ValidationError) as excinfo:
        services.schedule_validate(**{**values, **fields})
    assert excinfo.value.messages == messages


# -- the admin ------------------------------------------------------------------------------------

CHANGELIST = "/admin/tours/departureschedule/"
GENERATE = ("tours.view_departureschedule", "tours.generate_departures")


def add_schedule(client, tour, **fields):
    """POST the add form of a schedule as a browser would: its defaults, then ``fields``."""
    client.force_login(staff_with_permissions("tours.add_departureschedule", "tours.view_departureschedule"))
    data = form_values(client.get(f"{CHANGELIST}add/").content.decode(), "departureschedule_form")
    data.update({"tour": tour.pk, "weekdays": ["1", "3"], "start_time": "09:00", "capacity": "10", **fields})
    return client.post(f"{CHANGELIST}add/", data)


def test_admin_refuses_a_schedule_that_ends_before_it_starts(client):
    response = add_schedule(client, TourFactory(), starts_on="2027-03-14", ends_on="2027-03-01")

    assert response.status_code == 200
    assert "The last day of a schedule cannot be before its first day." in response.content.decode()
    assert not DepartureSchedule.objects.exists()
    assert not Departure.objects.exists()


def test_admin_saves_a_schedule_with_its_weekdays_and_exceptions(client):
    response = add_schedule(
        client,
        TourFactory(),
        weekdays=["5", "1"],
        starts_on="2027-03-01",
        ends_on="2027-03-14",
        guide="Domingo",
        **{"exceptions-0-date": "2027-03-05", "exceptions-0-reason": "Festival"},
    )

    assert response.status_code == 302
    schedule = DepartureSchedule.objects.get()
    assert (schedule.weekdays, schedule.weekday_numbers, schedule.weekdays_display) == ("1,5", [1, 5], "Mon, Fri")
    assert list(schedule.exceptions.values_list("date", "reason")) == [(date(2027, 3, 5), "Festival")]
    client.force_login(staff_with_permissions("tours.change_departureschedule", email="editor@kallpa.example"))
    page = client.get(f"{CHANGELIST}{schedule.pk}/change/").content.decode()
    assert form_values(page, "departureschedule_form")["weekdays"] == ["1", "5"]  # the boxes shown ticked


@freeze_time(NOW)
def test_generate_action_reports_and_audits_what_it_did(client, schedule):
    user = staff_with_permissions(*GENERATE)
    client.force_login(user)

    response = post_action(client, CHANGELIST, "generate_departures", [schedule])

    assert response.status_code == 200
    page = response.content.decode()
    summary = (
        "Generated departures: 5 departures created, 0 updated, 0 removed, 0 unchanged, "
        "0 with bookings left as they were, 1 date skipped as an exception."
    )
    assert summary in page
    assert "Fri 5 Mar 2027" in page  # the exception, listed
    created = list(Departure.objects.filter(schedule=schedule).order_by("starts_at"))
    assert len(created) == 5
    assert audit_trail(schedule) == [(CHANGE, summary, user.email)]
    generated = f"Generated from schedule “{schedule}”."
    assert [audit_trail(departure) for departure in created] == [[(ADDITION, generated, user.email)]] * 5


@freeze_time(NOW)
def test_generate_action_logs_removed_and_updated_departures(client, schedule):
    services.departures_generate(schedule_id=schedule.pk, now=NOW)
    removed = Departure.objects.get(starts_at=at(12))
    ScheduleException.objects.create(schedule=schedule, date=date(2027, 3, 12))
    DepartureSchedule.objects.filter(pk=schedule.pk).update(capacity=16)
    user = staff_with_permissions(*GENERATE)
    client.force_login(user)

    post_action(client, CHANGELIST, "generate_departures", [schedule])

    assert audit_trail(removed) == [
        (DELETION, f"Removed: schedule “{schedule}” no longer includes this date.", user.email)
    ]
    updated = Departure.objects.get(starts_at=at(1))
    assert audit_trail(updated) == [(CHANGE, f"Capacity 10 → 16 (Generated from schedule “{schedule}”.)", user.email)]


@freeze_time(NOW)
def test_generate_action_is_refused_without_its_permission(client, schedule):
    client.force_login(staff_with_permissions("tours.view_departureschedule", "tours.change_departureschedule"))

    response = post_action(client, CHANGELIST, "generate_departures", [schedule])

    assert response.status_code in (200, 302)
    assert not Departure.objects.exists()
    assert audit_trail(schedule) == []
    assert 'value="generate_departures"' not in client.get(CHANGELIST).content.decode()
