"""Staff operations racing travellers (PostgreSQL, real threads): a capacity change never drops below
the seats held under it, and regenerating a schedule never deletes a departure someone just booked."""

import threading
from datetime import time, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from bookings.models import Booking
from bookings.services import BookingError
from tests.bookings.helpers import hold, seats_left
from tests.factories import DepartureFactory, TourFactory, UserFactory
from tours import services
from tours.models import Departure, DepartureSchedule, ScheduleException, SeatHold
from tours.services import SeatsUnavailable

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(jobs) -> list:
    """Run the callables at once, each in its own thread and connection; return what each returned or raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", jobs[index]())
        except Exception as exc:
            outcomes[index] = (type(exc).__name__, str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_a_capacity_change_racing_travellers_never_goes_below_the_seats_held():
    departure = DepartureFactory(tour=TourFactory(max_group=8), capacity=10)
    for _ in range(4):
        hold(departure, UserFactory(), adults=1)
    travellers = [UserFactory() for _ in range(8)]
    jobs = [lambda user=user: hold(departure, user, adults=1).pk for user in travellers]
    jobs.append(lambda: services.departure_capacity_change(departure_ids=[departure.pk], capacity=6))

    outcomes = race(jobs)

    assert {kind for kind, _value in outcomes} <= {"ok", "SeatsUnavailable", "DepartureError"}, outcomes
    departure.refresh_from_db()
    taken = SeatHold.objects.filter(departure=departure).count()
    assert taken <= departure.capacity
    assert seats_left(departure) == departure.capacity - taken
    if outcomes[-1][0] == "ok":  # the change won the lock: at most 2 more seats were sold after it
        assert (departure.capacity, taken) == (6, 6)
    else:  # travellers got there first: more than 6 seats were taken, the change was refused whole
        assert departure.capacity == 10 and taken > 6


def test_regenerating_a_schedule_racing_a_booking_never_deletes_a_booked_departure():
    tour = TourFactory(max_group=8)
    tomorrow = timezone.localdate() + timedelta(days=1)
    schedule = DepartureSchedule.objects.create(
        tour=tour,
        weekdays=",".join(str(d) for d in range(1, 8)),
        start_time=time(9, 0),
        starts_on=tomorrow,
        ends_on=tomorrow + timedelta(days=6),
        capacity=10,
    )
    services.departures_generate(schedule_id=schedule.pk)
    target = Departure.objects.get(schedule=schedule, starts_at__date=tomorrow)
    ScheduleException.objects.create(schedule=schedule, date=tomorrow)  # regenerating now removes it, if unbooked
    traveller = UserFactory()

    def book():
        try:
            return hold(target, traveller, adults=2).pk
        except (BookingError, SeatsUnavailable) as exc:
            return str(exc)

    outcomes = race([book, lambda: services.departures_generate(schedule_id=schedule.pk)])

    assert [kind for kind, _value in outcomes] == ["ok", "ok"], outcomes
    run = outcomes[1][1]
    if Departure.objects.filter(pk=target.pk).exists():  # the booking came first: the departure stays
        assert Booking.objects.get(departure=target).pk == outcomes[0][1]
        assert [d.pk for d in run.kept_booked] == [target.pk] and run.removed == []
    else:  # the schedule came first: the traveller is told, nothing was booked
        assert outcomes[0][1] == "This departure does not exist."
        assert not Booking.objects.exists()
        assert [pk for pk, _description in run.removed] == [target.pk]
