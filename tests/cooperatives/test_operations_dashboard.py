"""The operations dashboard: exact figures, links to the lists they count, per-group sections, and a
constant number of queries whatever the amount of data. Frozen on Monday 2 March 2026, 09:00 in Lima.
"""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from freezegun import freeze_time

from bookings import services as booking_services
from bookings.models import Booking
from cacaotours.core.money import Money
from cooperatives import services
from cooperatives.operations_selectors import operations_dashboard
from tests.bookings.helpers import hold
from tests.factories import DepartureFactory, RouteFactory, ShareRuleFactory, TourFactory, UserFactory

from .conftest import pay_simulated, ready, starts_in

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/operations/"
ALL = {"departures", "bookings", "shares"}


@pytest.fixture(autouse=True)
def _monday_morning():
    with freeze_time("2026-03-02 14:00:00+00:00", tick=True):
        yield


@pytest.fixture
def usd_tour(fund):
    route = RouteFactory(name_en="Madre de Dios rainforest", name_es="Selva de Madre de Dios")
    tour = TourFactory(route=route, currency="USD", adult_price=4500, child_price=None)
    ShareRuleFactory(tour=tour, cooperative=None, fund=fund, basis_points=1000)
    return tour


@pytest.fixture
def scene(rules, tour, usd_tour, traveller, staff_user, django_capture_on_commit_callbacks):
    """Today 15:00: a confirmed S/ 700.00 booking (2 of 10 seats), S/ 100.00 refunded, and an unpaid hold of 1.
    Thursday: an empty departure of 8. In 20 days: a confirmed US$ 45.00 booking, flagged. The fund's S/ 70.00
    is paid by bank; the cooperative's S/ 105.00 was transferred; the farm's 35.00 and the fund's US$ 4.50 owed."""
    capture = django_capture_on_commit_callbacks
    today = DepartureFactory(tour=tour, starts_at=starts_in(0, hour=15), capacity=10, guide="Rosa")
    thursday = DepartureFactory(tour=tour, starts_at=starts_in(3, hour=7), capacity=8, guide="Wilber")
    DepartureFactory(tour=tour, starts_at=starts_in(9), capacity=8)  # next week: not shown
    pen = ready(today, traveller)
    pay_simulated(pen, capture)
    with capture(execute=True):
        booking_services.booking_refund_partial(
            booking_id=pen.pk, amount=Money(10000, "PEN"), reason="rain", actor=staff_user
        )
    held = hold(today, UserFactory(), adults=1)
    usd = ready(DepartureFactory(tour=usd_tour, starts_at=starts_in(20)), traveller, adults=1)
    pay_simulated(usd, capture)
    booking_services.booking_flag(booking_id=usd.pk, reason="Payment disputed")
    line = services.payout_batch_create(currency="PEN", actor=staff_user).lines.get(fund__isnull=False)
    services.payout_line_mark_paid(line_id=line.pk, bank_reference="BCP-1", actor=staff_user)
    return {"today": today, "thursday": thursday, "pen": pen, "held": held, "usd": usd}


def test_the_figures(scene, tour, usd_tour):
    board = operations_dashboard(sections=ALL)

    today = [
        (r.departure, r.seats_sold, r.bookings, r.seats_held, r.departure.capacity) for r in board.departures_today
    ]
    assert today == [(scene["today"], 2, 1, 1, 10)]
    assert [(r.departure, r.seats_sold, r.departure.capacity) for r in board.departures_week] == [
        (scene["thursday"], 0, 8)
    ]
    assert [
        (r.route_name, r.currency, r.bookings, r.travellers, r.booked, r.received, r.refunded, r.net)
        for r in board.routes_month
    ] == [
        (
            str(tour.route.name),
            "PEN",
            1,
            2,
            Money(70000, "PEN"),
            Money(70000, "PEN"),
            Money(10000, "PEN"),
            Money(60000, "PEN"),
        ),
        (
            "Madre de Dios rainforest",
            "USD",
            1,
            1,
            Money(4500, "USD"),
            Money(4500, "USD"),
            Money(0, "USD"),
            Money(4500, "USD"),
        ),
    ]
    assert (board.holds_active, board.holds_expiring_count, board.holds_expiring) == (1, 0, [])
    assert (board.flagged_count, board.flagged) == (1, [scene["usd"]])
    # PEN: 105.00 − 15.00 reversed went by Stripe (the transfer entry is 105.00), the fund's 70.00 − 10.00 refunded
    # share was paid by bank as 60.00, the farm's 35.00 − 5.00 is owed; USD: the fund's 4.50 is owed.
    assert [
        (r.currency, r.transferred, r.paid_by_bank, r.owed_waiting, r.owed_batched, r.pending) for r in board.shares
    ] == [
        ("PEN", Money(10500, "PEN"), Money(6000, "PEN"), Money(0, "PEN"), Money(3000, "PEN"), Money(0, "PEN")),
        ("USD", Money(0, "USD"), Money(0, "USD"), Money(450, "USD"), Money(0, "USD"), Money(0, "USD")),
    ]
    assert board.transfer_queue_count == 0

    with freeze_time(scene["held"].expires_at - timedelta(minutes=3)):
        board = operations_dashboard(sections={"bookings"})
    assert (board.holds_active, board.holds_expiring_count, board.holds_expiring) == (1, 1, [scene["held"]])


def test_the_page_links_every_figure_to_the_list_it_counts(staff_client, scene):
    page = staff_client.get(DASHBOARD)
    html = page.content.decode()
    links = page.context["links"]

    def listed(url):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        return set(response.context["cl"].result_list)

    assert listed(links["flagged"]) == {scene["usd"]}
    assert listed(links["holds_active"]) == {scene["held"]}
    assert listed(links["bookings_today"]) == {scene["pen"], scene["held"]}
    assert listed(links["bookings_month"]) == {scene["pen"], scene["usd"]}
    assert listed(links["departures_today"]) == {scene["today"]}
    assert listed(links["departures_week"]) == {scene["today"], scene["thursday"]}
    [(_row, departure_url, bookings_url)] = page.context["departures_today"]
    assert listed(bookings_url) == {scene["pen"], scene["held"]}
    assert departure_url == reverse("admin:tours_departure_change", args=[scene["today"].pk])
    [(_pen, pen_url), (_usd, usd_url)] = page.context["routes_month"]
    assert (listed(pen_url), listed(usd_url)) == ({scene["pen"]}, {scene["usd"]})
    [(_pen_shares, urls), _usd_shares] = page.context["shares"]
    assert sum(s.amount - s.amount_reversed for s in listed(urls["batched"])) == 3000
    assert {e.kind for e in listed(links["transfers_month"])} == {"transfer"}
    assert {e.kind for e in listed(links["bank_month"])} == {"bank_payout"}
    for text in ("2 / 10", "S/ 600.00", "US$ 4.50", "1 booking needs attention", "Payment disputed"):
        assert text in html.replace("\u00a0", " "), text


def test_each_group_sees_its_sections(operations_client, finance_client, scene):
    ops = operations_client.get(DASHBOARD)
    fin = finance_client.get(DASHBOARD)

    assert ops.context["sections"] == {"departures", "bookings"}
    assert fin.context["sections"] == {"departures", "bookings", "shares"}
    assert "Community shares" not in ops.content.decode() and "Community shares" in fin.content.decode()
    assert reverse("operations_dashboard") in operations_client.get(reverse("admin:index")).content.decode()


def test_staff_without_booking_access_are_refused(client, scene):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(DASHBOARD).status_code == 403
    client.force_login(UserFactory(is_staff=False))
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    assert not list(get_messages(response.wsgi_request))


# -- a constant number of queries ---------------------------------------------------------------------


def more_data(tour, usd_tour, traveller, capture, n: int) -> None:
    """``n`` more of everything: departures today and this week, paid and flagged bookings, holds, shares."""
    for i in range(n):
        today = DepartureFactory(tour=tour, starts_at=starts_in(0, hour=16) + timedelta(minutes=i), capacity=12)
        week = DepartureFactory(tour=tour, starts_at=starts_in(2 + i % 4, hour=8) + timedelta(minutes=i), capacity=6)
        pay_simulated(ready(today, traveller), capture)
        pay_simulated(ready(week, traveller, adults=1), capture)
        hold(week, UserFactory(), adults=1)
        usd = ready(DepartureFactory(tour=usd_tour, starts_at=starts_in(15) + timedelta(hours=i)), traveller)
        pay_simulated(usd, capture)
        booking_services.booking_flag(booking_id=usd.pk, reason=f"check {i}")
    other_route = TourFactory(route=RouteFactory(), currency="PEN")
    ShareRuleFactory(tour=other_route, basis_points=500)
    pay_simulated(ready(DepartureFactory(tour=other_route, starts_at=starts_in(1)), traveller), capture)


def test_the_dashboard_runs_a_constant_number_of_queries(
    staff_client, scene, tour, usd_tour, traveller, django_assert_num_queries, django_capture_on_commit_callbacks
):
    staff_client.get(DASHBOARD)  # warm the caches (content types, site)
    with django_assert_num_queries(11):  # session, user, then 9 for the figures (operations_dashboard)
        assert staff_client.get(DASHBOARD).status_code == 200

    more_data(tour, usd_tour, traveller, django_capture_on_commit_callbacks, 6)
    assert Booking.objects.filter(flagged=True).count() == 7
    with django_assert_num_queries(11):
        response = staff_client.get(DASHBOARD)
    assert len(response.context["departures_today"]) == 7 and len(response.context["routes_month"]) == 3


def test_the_selector_alone(
    scene, tour, usd_tour, traveller, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_num_queries(9):
        operations_dashboard(sections=ALL)
    more_data(tour, usd_tour, traveller, django_capture_on_commit_callbacks, 3)
    with django_assert_num_queries(9):
        operations_dashboard(sections=ALL)
    with django_assert_num_queries(1):
        operations_dashboard(sections={"departures"})
