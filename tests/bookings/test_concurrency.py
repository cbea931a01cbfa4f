"""Seats under contention (PostgreSQL, real threads) and the query budget of the hold."""

import threading
from collections import Counter

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from bookings.models import Booking, BookingStatus
from tests.bookings.helpers import hold, seats_left
from tests.factories import DepartureFactory, TourFactory, UserFactory
from tours.models import SeatHold
from tours.services import SeatsUnavailable

THREADS = 50


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_travellers_race_for_ten_seats():
    departure = DepartureFactory(tour=TourFactory(max_group=8), capacity=10)
    users = [UserFactory() for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            booking = hold(departure, users[index], adults=1)
            outcomes[index] = ("held", booking.pk)
        except SeatsUnavailable as exc:
            outcomes[index] = ("unavailable", str(exc), exc.seats_left)
        except Exception as exc:  # anything else is a failure of the test
            outcomes[index] = ("error", repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    kinds = Counter(outcome[0] for outcome in outcomes)
    assert kinds == {"held": 10, "unavailable": 40}, [o for o in outcomes if o[0] == "error"]
    assert {o[1:] for o in outcomes if o[0] == "unavailable"} == {("Sorry, this departure is sold out.", 0)}
    assert Booking.objects.filter(departure=departure, status=BookingStatus.HELD).count() == 10
    assert SeatHold.objects.filter(departure=departure).count() == 10
    assert sorted(o[1] for o in outcomes if o[0] == "held") == sorted(Booking.objects.values_list("pk", flat=True))
    assert seats_left(departure) == 0
    assert len(set(Booking.objects.values_list("reference", flat=True))) == 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_holds_on_two_departures_of_one_tour_do_not_mix():
    tour = TourFactory(max_group=8)
    first, second = DepartureFactory(tour=tour, capacity=5), DepartureFactory(tour=tour, capacity=5)
    users = [UserFactory() for _ in range(20)]
    barrier = threading.Barrier(20)
    errors: list = []

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            hold(first if index % 2 else second, users[index], adults=1)
        except SeatsUnavailable:
            pass
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert (seats_left(first), seats_left(second)) == (0, 0)
    assert Booking.objects.filter(departure=first).count() == 5
    assert Booking.objects.filter(departure=second).count() == 5


# -- the query budget of the hold POST ------------------------------------------------------

HOLD_QUERY_BUDGET = 8
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def _book(client, departure, adults=1):
    return client.post(f"/book/{departure.pk}/", {"departure": departure.pk, "adults": adults, "children": 0})


def _statements(queries) -> list[str]:
    """The statements that read or write data (SQLite logs BEGIN/COMMIT, PostgreSQL does not)."""
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(TRANSACTION_CONTROL)]


@pytest.mark.parametrize("transactional", [True, False], ids=["own-transaction", "inside-test-transaction"])
def test_the_hold_post_stays_within_its_query_budget_whatever_the_data(request, client, transactional):
    """Few or many existing holds: the same number of queries (at most 8), and a redirect."""
    request.getfixturevalue("transactional_db" if transactional else "db")
    small = DepartureFactory(tour=TourFactory(), capacity=50)
    large = DepartureFactory(tour=TourFactory(), capacity=500)
    for _ in range(2):
        hold(small, UserFactory(), adults=1)
    for _ in range(40):
        hold(large, UserFactory(), adults=1)
    user = UserFactory()
    client.force_login(user)

    counts = []
    for departure in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = _book(client, departure)
        assert response.status_code == 302
        booking = Booking.objects.filter(user=user, departure=departure).get()
        assert response["Location"] == f"/bookings/{booking.reference}/details/"
        counts.append(len(_statements(queries)))

    assert counts[0] == counts[1], counts
    assert counts[0] <= HOLD_QUERY_BUDGET, _statements(queries)


@pytest.mark.django_db
def test_an_unknown_departure_is_a_404_and_holds_nothing(client):
    client.force_login(UserFactory())

    response = client.post("/book/987654/", {"departure": 987654, "adults": 1, "children": 0})

    assert response.status_code == 404
    assert SeatHold.objects.count() == 0


@pytest.mark.django_db
def test_booking_needs_a_signed_in_traveller(client):
    departure = DepartureFactory(tour=TourFactory(), capacity=10)

    response = _book(client, departure)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert SeatHold.objects.count() == 0
