"""The itinerary editor on the tour's admin page (stops by day, up/down, the stops inline, the preview
with the public template) and "Duplicate tour"."""

import re
from datetime import time

import pytest
from django.contrib.admin.models import ADDITION, CHANGE
from django.core.exceptions import ValidationError

from tests.factories import (
    DepartureFactory,
    FarmFactory,
    ItineraryStopFactory,
    ShareRuleFactory,
    TourFactory,
    TourPhotoFactory,
)
from tests.helpers import admin_messages, audit_trail, form_values, post_action, staff_with_permissions
from tours import services
from tours.models import Departure, ItineraryStop, ShareRule, Tour

pytestmark = pytest.mark.django_db
EDIT = (
    "tours.view_tour",
    "tours.change_tour",
    "tours.add_itinerarystop",
    "tours.change_itinerarystop",
    "tours.delete_itinerarystop",
)
A = ItineraryStop.Activity


@pytest.fixture
def farm():
    return FarmFactory(name_en="Don Manuel's Farm", name_es="Finca de Don Manuel", slug="don-manuel")


@pytest.fixture
def tour(farm):
    tour = TourFactory(title_en="Convención Cacao Weekend", title_es="Fin de semana del cacao", slug="weekend")
    for day, order, activity, title, at in (
        (1, 1, A.HARVEST, "Harvest ripe pods", time(8, 0)),
        (1, 2, A.FERMENTATION, "Open the fermentation boxes", time(11, 0)),
        (1, 3, A.TASTING, "Taste the nibs", None),
        (2, 1, A.WALK, "Walk to the waterfall", time(7, 30)),
    ):
        ItineraryStopFactory(
            tour=tour,
            day=day,
            order=order,
            activity=activity,
            title_en=title,
            title_es=f"{title} (es)",
            time=at,
            farm=farm if day == 1 else None,
        )
    return tour


@pytest.fixture
def editor(client):
    user = staff_with_permissions(*EDIT)
    client.force_login(user)
    return user


def stops(tour) -> list[tuple]:
    return list(ItineraryStop.objects.filter(tour=tour).order_by("day", "order").values_list("day", "order", "title"))


def stop(title) -> ItineraryStop:
    return ItineraryStop.objects.get(title_en=title)


def move_url(tour, stop_obj) -> str:
    return f"/admin/tours/tour/{tour.pk}/itinerary/{stop_obj.pk}/move/"


ORIGINAL = [
    (1, 1, "Harvest ripe pods"),
    (1, 2, "Open the fermentation boxes"),
    (1, 3, "Taste the nibs"),
    (2, 1, "Walk to the waterfall"),
]


# -- up / down ------------------------------------------------------------------------------------


def test_moving_a_stop_down_swaps_it_with_the_next_one_and_persists(client, editor, tour):
    response = client.post(move_url(tour, stop("Harvest ripe pods")), {"direction": "down"})

    assert response.status_code == 302
    assert response.url == f"/admin/tours/tour/{tour.pk}/change/#itinerary-editor"
    assert stops(tour) == [
        (1, 1, "Open the fermentation boxes"),
        (1, 2, "Harvest ripe pods"),
        (1, 3, "Taste the nibs"),
        (2, 1, "Walk to the waterfall"),
    ]
    message = "Moved stop “Harvest ripe pods” of day 1 from position 1 to 2."
    assert admin_messages(response) == [message]
    assert audit_trail(tour) == [(CHANGE, message, editor.email)]


def test_moving_a_stop_up(client, editor, tour):
    client.post(move_url(tour, stop("Taste the nibs")), {"direction": "up"})

    assert stops(tour) == [
        (1, 1, "Harvest ripe pods"),
        (1, 2, "Taste the nibs"),
        (1, 3, "Open the fermentation boxes"),
        (2, 1, "Walk to the waterfall"),
    ]


@pytest.mark.parametrize(
    ("title", "direction", "message"),
    [
        ("Harvest ripe pods", "up", "“Harvest ripe pods” is already the first stop of day 1."),
        ("Taste the nibs", "down", "“Taste the nibs” is already the last stop of day 1."),
        ("Walk to the waterfall", "up", "“Walk to the waterfall” is already the first stop of day 2."),
        ("Harvest ripe pods", "sideways", "Unknown direction."),
    ],
)
def test_a_move_past_the_ends_of_the_day_is_refused_and_nothing_changes(
    client, editor, tour, title, direction, message
):
    response = client.post(move_url(tour, stop(title)), {"direction": direction})

    assert response.status_code == 302
    assert admin_messages(response) == [message]
    assert stops(tour) == ORIGINAL
    assert audit_trail(tour) == []


def test_moving_needs_the_change_permission_and_a_post(client, tour):
    client.force_login(staff_with_permissions("tours.view_tour"))

    assert client.post(move_url(tour, stop("Harvest ripe pods")), {"direction": "down"}).status_code == 403
    assert client.get(move_url(tour, stop("Harvest ripe pods"))).status_code == 405
    assert stops(tour) == ORIGINAL


def test_a_stop_of_another_tour_cannot_be_moved_through_this_one(client, editor, tour):
    other = ItineraryStopFactory(day=1, order=1)

    assert client.post(move_url(tour, other), {"direction": "down"}).status_code == 404


# -- the stops inline -------------------------------------------------------------------------------


def tour_form(client, tour) -> dict:
    return form_values(client.get(f"/admin/tours/tour/{tour.pk}/change/").content.decode(), "tour_form")


def inline_index(data, stop_obj) -> str:
    return next(key.split("-")[1] for key, value in data.items() if key.endswith("-id") and value == str(stop_obj.pk))


def test_two_stops_can_swap_orders_in_one_save(client, editor, tour):
    data = tour_form(client, tour)
    data[f"stops-{inline_index(data, stop('Harvest ripe pods'))}-order"] = "2"
    data[f"stops-{inline_index(data, stop('Open the fermentation boxes'))}-order"] = "1"

    response = client.post(f"/admin/tours/tour/{tour.pk}/change/", data)

    assert response.status_code == 302
    assert stops(tour) == [
        (1, 1, "Open the fermentation boxes"),
        (1, 2, "Harvest ripe pods"),
        (1, 3, "Taste the nibs"),
        (2, 1, "Walk to the waterfall"),
    ]


def test_a_duplicate_stop_order_is_refused_with_a_clear_message_and_nothing_changes(client, editor, tour):
    data = tour_form(client, tour)
    data["title_en"] = "Renamed"
    data[f"stops-{inline_index(data, stop('Taste the nibs'))}-order"] = "2"

    response = client.post(f"/admin/tours/tour/{tour.pk}/change/", data)

    assert response.status_code == 200
    assert (
        "Each stop of a day needs its own order: day 1 has 2 stops with order 2 "
        "(“Open the fermentation boxes”, “Taste the nibs”)."
    ) in response.content.decode()
    assert stops(tour) == ORIGINAL
    assert Tour.objects.get(pk=tour.pk).title_en == "Convención Cacao Weekend"


def test_the_service_checks_orders_against_the_stops_it_is_not_editing(tour):
    moved = stop("Taste the nibs")
    moved.order = 1

    with pytest.raises(ValidationError) as excinfo:
        services.itinerary_stops_save(tour=tour, stops=[moved], deleted=[])

    assert excinfo.value.messages == [
        "Each stop of a day needs its own order: day 1 has 2 stops with order 1 "
        "(“Harvest ripe pods”, “Taste the nibs”)."
    ]
    assert stops(tour) == ORIGINAL


# -- the editor panel and the preview ------------------------------------------------------------------


def test_the_tour_page_shows_the_stops_by_day_with_farm_activity_and_move_buttons(client, editor, tour, farm):
    page = client.get(f"/admin/tours/tour/{tour.pk}/change/").content.decode()

    editor_html = page[page.index('id="itinerary-editor"') :]
    assert re.findall(r"<h3>(.*?)</h3>", editor_html)[:2] == ["Day 1", "Day 2"]
    rows = re.findall(r'<tr id="stop-(\d+)">', editor_html)
    assert rows == [str(stop(t).pk) for _day, _order, t in ORIGINAL]
    assert f'<a href="/admin/farms/farm/{farm.pk}/change/">Don Manuel&#x27;s Farm</a>' in editor_html
    assert "<td>Fermentation</td>" in editor_html
    assert editor_html.count('name="direction" value="up"') == 4
    assert f'src="/admin/tours/tour/{tour.pk}/itinerary/preview/"' in editor_html


def test_a_viewer_sees_the_itinerary_without_move_buttons(client, tour):
    client.force_login(staff_with_permissions("tours.view_tour"))

    page = client.get(f"/admin/tours/tour/{tour.pk}/change/").content.decode()

    assert 'id="itinerary-editor"' in page
    assert 'name="direction"' not in page
    assert "Duplicate as draft" not in page


def itinerary_section(html: str) -> str:
    return re.search(r'<section class="block" id="itinerary".*?</section>', html, re.S).group(0)


def test_the_preview_is_the_public_itinerary_template(client, editor, tour):
    DepartureFactory(tour=tour)

    preview = client.get(f"/admin/tours/tour/{tour.pk}/itinerary/preview/")
    public = client.get(tour.get_absolute_url())

    assert preview.status_code == 200
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert "includes/itinerary.html" in [template.name for template in preview.templates]
    assert itinerary_section(preview.content.decode()) == itinerary_section(public.content.decode())


def test_only_the_preview_may_be_framed_and_only_by_the_site_itself(client, editor, tour):
    """Regression (found by the e2e staff flow): the CSP's ``frame-ancestors 'none'`` made the browser
    refuse to show the preview inside the tour page, whatever X-Frame-Options said."""

    def policy(response) -> dict[str, str]:
        return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))

    preview = client.get(f"/admin/tours/tour/{tour.pk}/itinerary/preview/")
    page = client.get(f"/admin/tours/tour/{tour.pk}/change/")

    assert (policy(preview)["frame-ancestors"], preview["X-Frame-Options"]) == ("'self'", "SAMEORIGIN")
    assert (policy(page)["frame-ancestors"], page["X-Frame-Options"]) == ("'none'", "DENY")
    assert {**policy(preview), "frame-ancestors": "'none'"} == policy(page)  # nothing else is relaxed


def test_the_preview_of_an_unpublished_tour_shows_what_it_would_look_like(client, editor, tour):
    Tour.objects.filter(pk=tour.pk).update(is_published=False)

    preview = client.get(f"/admin/tours/tour/{tour.pk}/itinerary/preview/").content.decode()

    assert "Walk to the waterfall" in preview and "Day 2" in preview


def test_the_preview_needs_a_tour_permission(client, tour):
    client.force_login(staff_with_permissions("tours.view_departure"))

    assert client.get(f"/admin/tours/tour/{tour.pk}/itinerary/preview/").status_code == 403


# -- duplicate tour --------------------------------------------------------------------------------------


@pytest.fixture
def priced(tour, farm):
    Tour.objects.filter(pk=tour.pk).update(
        adult_price=42000, child_price=21000, currency="PEN", is_published=True, is_featured=True
    )
    ShareRuleFactory(tour=tour, cooperative=farm.cooperative, basis_points=1500, purpose_en="Fair cacao price")
    ShareRuleFactory(tour=tour, cooperative=None, farm=farm, basis_points=500, purpose_en="Host family")
    TourPhotoFactory(tour=tour)
    DepartureFactory(tour=tour)
    return Tour.objects.get(pk=tour.pk)


def stop_rows(tour) -> list[tuple]:
    return list(
        ItineraryStop.objects.filter(tour=tour)
        .order_by("day", "order")
        .values_list("day", "order", "time", "activity", "farm_id", "title_en", "title_es", "description_en")
    )


def rule_rows(tour) -> list[tuple]:
    return list(
        ShareRule.objects.filter(tour=tour)
        .order_by("-basis_points")
        .values_list("cooperative_id", "fund_id", "farm_id", "basis_points", "purpose_en", "purpose_es")
    )


def test_duplicating_a_tour_copies_itinerary_prices_and_share_rules_as_a_draft(priced):
    copy = services.tour_duplicate(tour_id=priced.pk)

    assert copy.pk != priced.pk
    assert (copy.slug, copy.title_en, copy.is_published, copy.is_featured) == (
        "weekend-copy",
        "Convención Cacao Weekend (copy)",
        False,
        False,
    )
    assert copy.title_es.startswith("Fin de semana del cacao (")
    assert (copy.route_id, copy.currency, copy.adult_price, copy.child_price) == (priced.route_id, "PEN", 42000, 21000)
    assert (copy.summary_en, copy.description_es, copy.meeting_point_en, copy.includes_en) == (
        priced.summary_en,
        priced.description_es,
        priced.meeting_point_en,
        priced.includes_en,
    )
    assert stop_rows(copy) == stop_rows(priced)
    assert rule_rows(copy) == rule_rows(priced)
    assert (copy.photos.count(), copy.departures.count()) == (0, 0)
    assert stop_rows(priced)[0][0:2] == (1, 1)  # the original is untouched


def test_a_second_copy_gets_its_own_slug(priced):
    services.tour_duplicate(tour_id=priced.pk)

    assert services.tour_duplicate(tour_id=priced.pk).slug == "weekend-copy-2"


def test_duplicate_button_needs_the_add_permission_and_audits_the_copy(client, priced):
    user = staff_with_permissions("tours.view_tour", "tours.add_tour", "tours.change_tour")
    client.force_login(user)
    assert "Duplicate as draft" in client.get(f"/admin/tours/tour/{priced.pk}/change/").content.decode()

    response = client.post(f"/admin/tours/tour/{priced.pk}/duplicate/")

    copy = Tour.objects.get(slug="weekend-copy")
    assert response.status_code == 302 and response.url == f"/admin/tours/tour/{copy.pk}/change/"
    assert admin_messages(response) == [
        "“Convención Cacao Weekend (copy)” is a draft copy of “Convención Cacao Weekend” (not published)."
    ]
    assert audit_trail(copy) == [(ADDITION, f"Duplicated from “Convención Cacao Weekend” (#{priced.pk}).", user.email)]


def test_duplicate_is_refused_without_the_add_permission(client, priced):
    client.force_login(staff_with_permissions("tours.view_tour", "tours.change_tour"))

    assert client.post(f"/admin/tours/tour/{priced.pk}/duplicate/").status_code == 403
    assert client.get(f"/admin/tours/tour/{priced.pk}/duplicate/").status_code == 405
    post_action(client, "/admin/tours/tour/", "duplicate_tours", [priced])
    assert list(Tour.objects.values_list("slug", flat=True)) == ["weekend"]
    assert Departure.objects.count() == 1


def test_duplicate_action_copies_each_selected_tour(client, priced):
    other = TourFactory(slug="infierno")
    client.force_login(staff_with_permissions("tours.view_tour", "tours.add_tour"))

    post_action(client, "/admin/tours/tour/", "duplicate_tours", [priced, other])

    assert sorted(Tour.objects.values_list("slug", flat=True)) == [
        "infierno",
        "infierno-copy",
        "weekend",
        "weekend-copy",
    ]
