"""Share list filters, upcoming visits (travellers' privacy), payouts, and Spanish first."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cooperatives import portal_selectors as selectors
from cooperatives.models import Share
from cooperatives.views import PORTAL_LANGUAGE_SESSION_KEY
from tests.factories import DepartureFactory, TourFactory

from . import test_portal_fixtures as shared
from .conftest import pay_simulated, ready
from .test_portal_fixtures import en, es

pytestmark = pytest.mark.django_db

# fixtures shared by the portal tests
leader = shared.leader
leader_client = shared.leader_client
paid_booking = shared.paid_booking
stop_at_farm = shared.stop_at_farm


# -- share entries ---------------------------------------------------------------------------------


def test_the_share_list_shows_each_share_with_its_reference(leader_client, coop, paid_booking):
    response = leader_client.get(es("entries", kind="c", pk=coop.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count(paid_booking.reference) >= 3
    transfer_id = Share.objects.get(cooperative=coop).transfer.stripe_transfer_id
    assert transfer_id.startswith("tr_sim_") and transfer_id in html
    for amount in ("S/ 105.00", "S/ 70.00", "S/ 35.00"):
        assert amount in html


def test_a_reversed_date_range_is_an_error_not_an_unfiltered_list(leader_client, coop, paid_booking):
    response = leader_client.get(es("entries", kind="c", pk=coop.pk), {"desde": "2026-05-01", "hasta": "2026-04-01"})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'role="alert"' in html and "2026-04-01" in html
    assert paid_booking.reference not in html  # no rows at all until the filter is corrected


def test_an_invalid_date_is_an_error(leader_client, coop, paid_booking):
    response = leader_client.get(es("entries", kind="c", pk=coop.pk), {"desde": "31/31/2026"})

    assert response.status_code == 400
    assert paid_booking.reference not in response.content.decode()


def test_filters_by_dates_tour_and_status(leader_client, coop, rules, tour, traveller, paid_booking):
    url = es("entries", kind="c", pk=coop.pk)
    today = selectors.lima_today()

    def refs(**params):
        response = leader_client.get(url, params)
        assert response.status_code == 200
        return response.content.decode().count(paid_booking.reference)

    assert refs(desde=today.isoformat(), hasta=today.isoformat()) == 3
    assert refs(hasta=(today - timedelta(days=1)).isoformat()) == 0
    assert refs(desde=(today + timedelta(days=1)).isoformat()) == 0
    assert refs(tour=tour.pk) == 3
    assert refs(estado=Share.Status.TRANSFERRED) == 1
    assert refs(estado=Share.Status.OWED) == 2
    assert leader_client.get(url, {"tour": 999999}).status_code == 400  # not one of the choices


def test_the_list_has_25_rows_a_page(
    leader_client, coop, rules, departure, traveller, django_capture_on_commit_callbacks
):
    departure.capacity = 40
    departure.save(update_fields=["capacity"])
    for _ in range(9):  # 9 bookings × 3 shares = 27 shares
        pay_simulated(ready(departure, traveller, adults=1), django_capture_on_commit_callbacks)
    url = es("entries", kind="c", pk=coop.pk)

    first = leader_client.get(url)
    second = leader_client.get(url, {"pagina": 2})

    assert first.context["page"].page.paginator.count == 27
    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 2
    assert 'rel="next" href="?pagina=2"' in first.content.decode()


# -- upcoming visits and the travellers' privacy --------------------------------------------------


def test_visits_show_first_names_party_diet_and_language_only(
    leader_client, coop, traveller, stop_at_farm, paid_booking
):
    booking = paid_booking
    response = leader_client.get(es("visits", kind="c", pk=coop.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Día del Cacao en Quillabamba" in html
    assert "Rosa, Juan" in html  # first names of "Rosa Quispe" and "Juan Huamán"
    assert "vegetarian" in html
    assert "Don Manuel" in html  # the farm it stops at
    for private in (
        traveller.email,
        traveller.phone,
        booking.contact_email,
        booking.emergency_contact_phone,
        "Quispe",  # surnames
        "Huamán Juan",
    ):
        assert private not in html, private


def test_visit_rows_never_select_contact_columns(coop, stop_at_farm, paid_booking, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        page = list(selectors.upcoming_visits(coop)[:25])
        rows = selectors.visit_rows(coop, page)

    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert len(queries) == 3
    for column in ("contact_email", "contact_phone", "emergency", '"email"', "phone", 'full_name" AS'):
        assert column not in sql
    assert rows[0]["first_names"] == ["Rosa", "Juan"]
    assert rows[0]["party"] == 2


def test_past_cancelled_and_unrelated_bookings_are_not_visits(
    coop, rules, tour, traveller, stop_at_farm, paid_booking, django_capture_on_commit_callbacks
):
    other_tour = TourFactory()
    other = ready(DepartureFactory(tour=other_tour, starts_at=timezone.now() + timedelta(days=9)), traveller)
    pay_simulated(other, django_capture_on_commit_callbacks)

    assert [row["reference"] for row in selectors.upcoming_visits(coop)] == [paid_booking.reference]
    assert list(selectors.upcoming_visits(coop, now=paid_booking.departure.starts_at)) == []


def test_a_funds_visits_are_the_bookings_that_pay_it(fund, paid_booking):
    assert [row["reference"] for row in selectors.upcoming_visits(fund)] == [paid_booking.reference]


# -- payouts ----------------------------------------------------------------------------------------


def test_payouts_list_transfers_and_bank_lines(leader_client, coop, paid_booking, staff_user):
    from cooperatives import services

    batch = services.payout_batch_create(currency="PEN", actor=staff_user)
    line = batch.lines.order_by("id").first()
    services.payout_line_mark_paid(line_id=line.pk, bank_reference="BCP-778899", actor=staff_user)

    html = leader_client.get(es("payouts", kind="c", pk=coop.pk)).content.decode()

    assert Share.objects.get(cooperative=coop).transfer.stripe_transfer_id in html
    assert "BCP-778899" in html
    assert f"Lote n.º {batch.pk}" in html


# -- Spanish first ----------------------------------------------------------------------------------


def test_english_portal_urls_redirect_to_spanish(client, leader, coop):
    client.force_login(leader)  # preferred language: Spanish

    response = client.get(en("entries", kind="c", pk=coop.pk), {"estado": "owed"})

    assert response.status_code == 302
    assert response["Location"] == es("entries", kind="c", pk=coop.pk) + "?estado=owed"


def test_anonymous_visitors_are_redirected_to_spanish_then_to_sign_in(client, coop):
    response = client.get(en("dashboard", kind="c", pk=coop.pk))

    assert response["Location"] == es("dashboard", kind="c", pk=coop.pk)


def test_a_leader_who_prefers_english_gets_english(client, leader, coop, paid_booking):
    leader.preferred_language = "en"
    leader.save(update_fields=["preferred_language"])
    client.force_login(leader)

    response = client.get(en("dashboard", kind="c", pk=coop.pk))

    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
    assert "Owed to the community" in response.content.decode()


def test_the_language_switcher_reaches_english_and_the_choice_sticks(leader_client, coop):
    spanish = es("dashboard", kind="c", pk=coop.pk)
    english = en("dashboard", kind="c", pk=coop.pk)
    page = leader_client.get(spanish).content.decode()
    assert f'href="{english}" hreflang="en"' in page  # the site's ordinary switcher

    switched = leader_client.get(english, HTTP_REFERER=f"http://testserver{spanish}")
    assert switched.status_code == 200
    assert '<html lang="en">' in switched.content.decode()
    assert leader_client.session[PORTAL_LANGUAGE_SESSION_KEY] == "en"
    # the header's "Portal" link (no portal Referer) now stays in English for the visit
    assert leader_client.get(en("entries", kind="c", pk=coop.pk)).status_code == 200
    # opening a Spanish page is switching back
    assert leader_client.get(spanish).status_code == 200
    assert PORTAL_LANGUAGE_SESSION_KEY not in leader_client.session
    assert leader_client.get(english).status_code == 302


def test_a_referer_from_another_site_does_not_count(leader_client, coop):
    response = leader_client.get(
        en("dashboard", kind="c", pk=coop.pk), HTTP_REFERER=f"http://evil.example{es('index')}"
    )

    assert response.status_code == 302


def test_spanish_and_english_pages_render(client, leader, coop, paid_booking):
    client.force_login(leader)
    pages = ["dashboard", "entries", "visits", "payouts", "payout_settings"]
    for name in pages:
        assert client.get(es(name, kind="c", pk=coop.pk)).status_code == 200
    leader.preferred_language = "en"
    leader.save(update_fields=["preferred_language"])
    for name in pages:
        response = client.get(en(name, kind="c", pk=coop.pk))
        assert response.status_code == 200, name
        assert '<html lang="en">' in response.content.decode()
