import html
from datetime import date, time, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CertificationFactory,
    CommunityFundFactory,
    DepartureFactory,
    FarmPhotoFactory,
    ItineraryStopFactory,
    MembershipFactory,
    RoutePhotoFactory,
    ShareRuleFactory,
    TourFactory,
    TourPhotoFactory,
)
from tours.models import Departure, DepartureSchedule

pytestmark = pytest.mark.django_db

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODEL_IDS = [model._meta.label for model, _model_admin in REGISTRY]
# Change pages of the catalog's models (the `content` fixture makes one of each); bookings'
# admin is covered by tests/bookings.
OWN_APPS = {"users", "core", "cooperatives", "farms", "tours"}
OWN_REGISTRY = [(model, model_admin) for model, model_admin in REGISTRY if model._meta.app_label in OWN_APPS]


@pytest.fixture
def content(media):
    """A few objects of every catalog model."""
    tour = TourFactory(title_en="Quillabamba Cacao Day")
    TourPhotoFactory(tour=tour)
    RoutePhotoFactory(route=tour.route)
    stop = ItineraryStopFactory(tour=tour)
    FarmPhotoFactory(farm=stop.farm)
    ShareRuleFactory(tour=tour, cooperative=stop.farm.cooperative)
    ShareRuleFactory(tour=tour, cooperative=None, fund=CommunityFundFactory(), basis_points=1000)
    DepartureFactory(tour=tour)
    schedule = DepartureSchedule.objects.create(
        tour=tour,
        weekdays="1,3",
        start_time=time(9, 0),
        starts_on=date(2027, 3, 1),
        ends_on=date(2027, 3, 31),
        capacity=8,
    )
    schedule.exceptions.create(date=date(2027, 3, 3), reason="Festival")
    MembershipFactory(cooperative=stop.farm.cooperative)
    stop.farm.cooperative.certifications.add(CertificationFactory())
    return tour


def admin_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=MODEL_IDS)
def test_changelist_renders(staff_client, content, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = staff_client.get(url)
    assert response.status_code == 200, url


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=MODEL_IDS)
def test_add_page_renders(staff_client, staff_user, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    response = staff_client.get(url)
    expected = 200 if model_admin.has_add_permission(admin_request(staff_user)) else 403
    assert response.status_code == expected, url


@pytest.mark.parametrize(
    ("model", "model_admin"), OWN_REGISTRY, ids=[model._meta.label for model, _model_admin in OWN_REGISTRY]
)
def test_change_page_of_an_existing_object_renders(staff_client, content, model, model_admin):
    obj = model._default_manager.order_by("pk").first()
    if obj is None:
        pytest.skip(f"no {model._meta.label} objects in the test content")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk])
    response = staff_client.get(url)
    assert response.status_code == 200, url


def test_tour_change_page_shows_its_inlines(staff_client, content):
    response = staff_client.get(reverse("admin:tours_tour_change", args=[content.pk]))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert 'name="stops-TOTAL_FORMS" value="1"' in body
    assert 'name="share_rules-TOTAL_FORMS" value="2"' in body
    assert 'name="photos-TOTAL_FORMS" value="1"' in body
    assert "Quillabamba Cacao Day" in body
    assert content.photos.get().rendition_url("thumb") in body  # the photo preview
    assert " style=" not in body  # the CSP refuses style attributes (it did the preview's)


class _Fields(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and "name" in attrs:
            self.found[attrs["name"]] = attrs


def field_attributes(page: str) -> dict[str, dict]:
    """The attributes of each form field of a page, by name."""
    parser = _Fields()
    parser.feed(page)
    return parser.found


def test_tabular_inline_fields_have_accessible_names(staff_client, content):
    """Regression (axe on the e2e staff flow, "critical"): Django's tabular inlines label their inputs
    only by column headers; ours give every visible input, select and "Delete" box an ``aria-label``."""
    tour_page = field_attributes(
        staff_client.get(reverse("admin:tours_tour_change", args=[content.pk])).content.decode()
    )
    schedule = DepartureSchedule.objects.get()
    schedule_page = field_attributes(
        staff_client.get(reverse("admin:tours_departureschedule_change", args=[schedule.pk])).content.decode()
    )

    assert {
        name: tour_page[name].get("aria-label")
        for name in (
            "stops-0-day",
            "stops-0-order",
            "stops-0-time",
            "stops-0-activity",
            "stops-0-title_en",
            "stops-0-title_es",
            "stops-0-description_en",
            "stops-0-DELETE",
            "stops-__prefix__-day",  # the row that "Add another" copies
            "stops-0-id",
            "share_rules-0-basis_points",
            "photos-0-alt_text_en",
        )
    } == {
        "stops-0-day": "Day",
        "stops-0-order": "Order",
        "stops-0-time": "Time",
        "stops-0-activity": "Activity",
        "stops-0-title_en": "Title [en]",
        "stops-0-title_es": "Title [es]",
        "stops-0-description_en": "Description [en]",
        "stops-0-DELETE": "Delete",
        "stops-__prefix__-day": "Day",
        "stops-0-id": None,  # hidden
        "share_rules-0-basis_points": "Share (basis points)",
        "photos-0-alt_text_en": "Alternative text [en]",
    }
    assert (schedule_page["exceptions-0-date"]["aria-label"], schedule_page["exceptions-0-reason"]["aria-label"]) == (
        "Date",
        "Reason",
    )
    assert "aria-label" not in tour_page["title_en"]  # the tour's own fields have their <label>


def test_every_admin_page_loads_the_admin_stylesheet_once(staff_client, content, client):
    stylesheet = '<link rel="stylesheet" href="/static/css/admin-operations.css">'
    pages = [
        reverse("admin:index"),
        reverse("admin:tours_tour_changelist"),
        reverse("admin:tours_tour_change", args=[content.pk]),
        reverse("admin:tours_departure_manifest", args=[content.departures.get().pk]),
        reverse("operations_dashboard"),
    ]
    for url in pages:
        assert staff_client.get(url).content.decode().count(stylesheet) == 1, url
    client.logout()
    assert client.get(reverse("admin:login")).content.decode().count(stylesheet) == 1


def test_tour_changelist_shows_price_and_community_share(staff_client, content):
    response = staff_client.get(reverse("admin:tours_tour_changelist"))
    body = html.unescape(response.content.decode())
    assert "S/ 350.00" in body
    assert "25.00%" in body


def test_admin_requires_staff(client):
    response = client.get(reverse("admin:tours_tour_changelist"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# -- departures changelist --------------------------------------------------------------


@pytest.fixture
def departures():
    now = timezone.now()
    quillabamba = TourFactory(title_en="Quillabamba Cacao Day")
    infierno = TourFactory(title_en="Infierno Agroforestry Walk")
    return {
        "past": DepartureFactory(tour=quillabamba, starts_at=now - timedelta(days=3), guide="Domingo"),
        "upcoming": DepartureFactory(tour=quillabamba, starts_at=now + timedelta(days=3), capacity=7, guide="Rosa"),
        "cancelled": DepartureFactory(
            tour=infierno, starts_at=now + timedelta(days=5), guide="Domingo", status=Departure.Status.CANCELLED
        ),
    }


def listed(response) -> list[int]:
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def test_departure_changelist_search(staff_client, departures):
    url = reverse("admin:tours_departure_changelist")
    assert listed(staff_client.get(url, {"q": "Infierno"})) == [departures["cancelled"].pk]
    assert listed(staff_client.get(url, {"q": "Rosa"})) == [departures["upcoming"].pk]
    assert listed(staff_client.get(url, {"q": "Quillabamba"})) == sorted(
        [departures["past"].pk, departures["upcoming"].pk]
    )


def test_departure_changelist_filters(staff_client, departures):
    url = reverse("admin:tours_departure_changelist")
    assert listed(staff_client.get(url, {"when": "upcoming"})) == sorted(
        [departures["upcoming"].pk, departures["cancelled"].pk]
    )
    assert listed(staff_client.get(url, {"when": "past"})) == [departures["past"].pk]
    assert listed(staff_client.get(url, {"status__exact": "cancelled"})) == [departures["cancelled"].pk]
    assert listed(staff_client.get(url, {"when": "upcoming", "status__exact": "open"})) == [departures["upcoming"].pk]


def test_departure_changelist_shows_seats_left(staff_client, departures):
    response = staff_client.get(reverse("admin:tours_departure_changelist"), {"q": "Rosa"})
    body = response.content.decode()
    assert "Seats left" in body
    assert '<td class="field-seats_left">7</td>' in body
