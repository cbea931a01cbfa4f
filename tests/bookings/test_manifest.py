"""Departure manifests (per departure, per day, CSV) and check-in on the day of the tour.

The scene, tomorrow at 09:00 on the Quillabamba Cacao Day: Rosa's family (2 adults, 1 child, paid
S/ 875.00, English) and Carmen (1 adult, paid S/ 350.00, Spanish, a name typed as a formula); Ana is
still paying for 1 seat. A second departure the same day at 14:00 carries Luis; a cancelled one at
16:00 is left out of the day's manifest.
"""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from bookings import selectors, services
from bookings.models import Participant
from tests.bookings.helpers import hold, pay_simulated, save_details, starts_in
from tests.factories import DepartureFactory, UserFactory
from tests.helpers import admin_messages, audit_trail, staff_with_permissions
from tours.models import Departure

pytestmark = pytest.mark.django_db
MANIFEST = ("tours.view_departure", "tours.view_manifest")
CHECK_IN = (*MANIFEST, "bookings.checkin_participant")
FORMULA = '=HYPERLINK("http://evil.example","Carmen")'


def details(booking, people, *, notes="", language="en", emergency=("Domingo", "+51 984 222 333")):
    return services.booking_details_save(
        booking=booking,
        participants=[{"full_name": n, "is_child": c, "dietary_needs": d} for n, c, d in people],
        emergency_contact_name=emergency[0],
        emergency_contact_phone=emergency[1],
        notes=notes,
        language=language,
    )


@pytest.fixture
def scene(tour, traveller, django_capture_on_commit_callbacks):
    morning = DepartureFactory(tour=tour, starts_at=starts_in(1, hour=9), capacity=10, guide="Domingo")
    afternoon = DepartureFactory(tour=tour, starts_at=starts_in(1, hour=14), capacity=6, guide="Rosa")
    cancelled = DepartureFactory(
        tour=tour, starts_at=starts_in(1, hour=16), capacity=6, status=Departure.Status.CANCELLED
    )
    rosa = pay_simulated(
        save_details(hold(morning, traveller, adults=2, children=1)), django_capture_on_commit_callbacks
    )
    carmen_user = UserFactory(email="carmen@example.com", first_name="Carmen", last_name="Flores", phone="")
    carmen = details(
        hold(morning, carmen_user, adults=1),
        [(FORMULA, False, "no nuts")],
        notes="Arrives from Cusco by bus",
        language="es",
        emergency=("Pedro Flores", "+51 999 111 222"),
    )
    carmen = pay_simulated(carmen, django_capture_on_commit_callbacks)
    ana = details(hold(morning, UserFactory(email="ana@example.com"), adults=1), [("Ana Paz", False, "")])
    luis_user = UserFactory(email="luis@example.com", first_name="Luis", last_name="Mamani", phone="+51 911")
    luis = pay_simulated(
        details(hold(afternoon, luis_user, adults=1), [("Luis Mamani", False, "")]), django_capture_on_commit_callbacks
    )
    return {
        "morning": morning,
        "afternoon": afternoon,
        "cancelled": cancelled,
        "rosa": rosa,
        "carmen": carmen,
        "ana": ana,
        "luis": luis,
    }


def person(name) -> Participant:
    return Participant.objects.get(full_name=name)


# -- contents --------------------------------------------------------------------------------------


def test_the_manifest_of_a_departure_lists_its_confirmed_bookings(scene):
    [manifest] = selectors.departure_manifests(departure_ids=[scene["morning"].pk])

    assert manifest.departure == scene["morning"]
    assert [
        (
            row.booking.reference,
            row.booking.contact_name,
            row.booking.adults,
            row.booking.children,
            row.language_name,
            row.payment_status,
            row.booking.emergency_contact_name,
            row.booking.emergency_contact_phone,
            row.booking.notes,
            [(p.full_name, p.is_child, p.dietary_needs, p.checked_in_at) for p in row.participants],
        )
        for row in manifest.bookings
    ] == [
        (
            scene["carmen"].reference,
            "Carmen Flores",
            1,
            0,
            "Spanish",
            "Paid S/ 350.00",
            "Pedro Flores",
            "+51 999 111 222",
            "Arrives from Cusco by bus",
            [(FORMULA, False, "no nuts", None)],
        ),
        (
            scene["rosa"].reference,
            "Rosa Quispe",
            2,
            1,
            "English",
            "Paid S/ 875.00",
            "Domingo",
            "+51 984 222 333",
            "",
            [
                ("Rosa Quispe", False, "vegetarian", None),
                ("Juan Huamán", False, "", None),
                ("Ana Quispe", True, "", None),
            ],
        ),
    ]
    assert (manifest.adults, manifest.children, manifest.participants, manifest.checked_in, manifest.seats_held) == (
        3,
        1,
        4,
        0,
        1,
    )
    assert [(p.full_name, p.dietary_needs) for p in manifest.dietary_needs] == [
        (FORMULA, "no nuts"),
        ("Rosa Quispe", "vegetarian"),
    ]


def test_a_partly_refunded_payment_shows_in_the_manifest(scene):
    from bookings.models import Payment

    Payment.objects.filter(booking=scene["rosa"]).update(amount_refunded=17500, status="partially_refunded")

    [manifest] = selectors.departure_manifests(departure_ids=[scene["morning"].pk])

    assert manifest.bookings[1].payment_status == "Paid S/ 875.00 · refunded S/ 175.00"


def test_the_day_manifest_has_every_departure_of_the_day_but_the_cancelled_one(scene):
    manifests = selectors.departure_manifests(day=timezone.localdate() + timedelta(days=1))

    assert [m.departure for m in manifests] == [scene["morning"], scene["afternoon"]]
    assert [[row.booking.reference for row in m.bookings] for m in manifests] == [
        [scene["carmen"].reference, scene["rosa"].reference],
        [scene["luis"].reference],
    ]


def test_the_manifest_takes_four_queries_whatever_its_size(scene, tour, django_assert_num_queries):
    with django_assert_num_queries(4):
        selectors.departure_manifests(day=timezone.localdate() + timedelta(days=1))
    for index in range(3):
        extra = DepartureFactory(tour=tour, starts_at=starts_in(1, hour=6 + index), capacity=10)
        for _ in range(2):
            booking = save_details(hold(extra, UserFactory(), adults=2, children=1))
            services.booking_checkout_start(booking=booking, base_url="http://testserver")
            services.simulated_checkout_complete(payment=booking.payments.get(), outcome="pay")

    with django_assert_num_queries(4):
        manifests = selectors.departure_manifests(day=timezone.localdate() + timedelta(days=1))
    assert sum(m.participants for m in manifests) == 4 + 1 + 3 * 2 * 3


# -- the pages -----------------------------------------------------------------------------------------


@pytest.fixture
def checker(client):
    user = staff_with_permissions(*CHECK_IN, email="guide@kallpa.example")
    client.force_login(user)
    return user


def manifest_url(departure) -> str:
    return f"/admin/tours/departure/manifest/{departure.pk}/"


def test_the_manifest_page_shows_everything_a_guide_needs(client, checker, scene):
    page = client.get(manifest_url(scene["morning"])).content.decode()

    for text in (
        "Quillabamba Cacao Day",
        "Plaza de Armas, Quillabamba",
        "3 adults, 1 child",
        "Seats held, payment not finished",
        scene["rosa"].reference,
        "2 adults, 1 child",
        "Paid S/ 875.00",
        "English",
        'Domingo · <a href="tel:+51 984 222 333">+51 984 222 333</a>',
        "Arrives from Cusco by bus",
        "vegetarian",
        "no nuts",
        "=HYPERLINK(&quot;http://evil.example&quot;,&quot;Carmen&quot;)",
    ):
        assert text in page, text
    assert page.count('name="present" value="1"') == 4
    assert "Ana Paz" not in page and "Luis Mamani" not in page
    assert 'href="/admin/tours/departure/manifest/' in client.get("/admin/tours/departure/").content.decode()


def test_the_day_manifest_page(client, checker, scene):
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    page = client.get("/admin/tours/departure/manifest/", {"date": day}).content.decode()

    assert "Juan Huamán" in page and "Luis Mamani" in page
    assert page.count('<section class="manifest-departure"') == 2
    assert page.count('name="next" value="day"') == 5


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_csv_has_one_formula_safe_row_per_participant(client, checker, scene):
    starts = timezone.localtime(scene["morning"].starts_at).strftime("%Y-%m-%d %H:%M")
    carmen, rosa = scene["carmen"].reference, scene["rosa"].reference

    response = client.get(f"{manifest_url(scene['morning'])}csv/")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="manifest-{starts[:10]}-0900-{scene["morning"].pk}.csv"'
    )
    tour, contact, rosa_phone, emergency = (
        "Quillabamba Cacao Day",
        "Rosa Quispe",
        "'+51 984 000 111",
        "'+51 984 222 333",
    )
    assert csv_rows(response) == [
        [
            "departure",
            "tour",
            "guide",
            "booking",
            "participant",
            "adult or child",
            "dietary needs",
            "language",
            "contact",
            "contact phone",
            "emergency contact",
            "emergency phone",
            "payment",
            "notes",
            "checked in at",
            "checked in by",
        ],
        [starts, tour, "Domingo", carmen, "'" + FORMULA, "adult", "no nuts", "Spanish", "Carmen Flores", "",
         "Pedro Flores", "'+51 999 111 222", "Paid S/ 350.00", "Arrives from Cusco by bus", "", ""],
        [starts, tour, "Domingo", rosa, "Rosa Quispe", "adult", "vegetarian", "English", contact, rosa_phone,
         "Domingo", emergency, "Paid S/ 875.00", "", "", ""],
        [starts, tour, "Domingo", rosa, "Juan Huamán", "adult", "", "English", contact, rosa_phone,
         "Domingo", emergency, "Paid S/ 875.00", "", "", ""],
        [starts, tour, "Domingo", rosa, "Ana Quispe", "child", "", "English", contact, rosa_phone,
         "Domingo", emergency, "Paid S/ 875.00", "", "", ""],
    ]  # fmt: skip


def test_the_day_csv(client, checker, scene):
    day = (timezone.localdate() + timedelta(days=1)).isoformat()

    response = client.get("/admin/tours/departure/manifest/", {"date": day, "format": "csv"})

    assert response["Content-Disposition"] == f'attachment; filename="manifest-{day}.csv"'
    assert [row[4] for row in csv_rows(response)[1:]] == [
        "'" + FORMULA,
        "Rosa Quispe",
        "Juan Huamán",
        "Ana Quispe",
        "Luis Mamani",
    ]


def test_manifests_need_the_manifest_permission(client, scene):
    client.force_login(staff_with_permissions("tours.view_departure", "tours.change_departure"))

    assert client.get(manifest_url(scene["morning"])).status_code == 403
    assert client.get(f"{manifest_url(scene['morning'])}csv/").status_code == 403
    assert client.get("/admin/tours/departure/manifest/").status_code == 403
    assert "Manifest" not in client.get("/admin/tours/departure/").content.decode()


# -- check-in ----------------------------------------------------------------------------------------------


def checkin_url(departure, participant) -> str:
    return f"/admin/tours/departure/manifest/{departure.pk}/check-in/{participant.pk}/"


def test_checking_in_records_who_and_when(client, checker, scene):
    juan = person("Juan Huamán")
    at = timezone.now().replace(microsecond=0)

    with freeze_time(at):
        response = client.post(checkin_url(scene["morning"], juan), {"present": "1"})

    assert response.status_code == 302
    assert response.url == f"{manifest_url(scene['morning'])}#p-{juan.pk}"
    juan.refresh_from_db()
    assert (juan.checked_in_at, juan.checked_in_by) == (at, checker)
    assert admin_messages(response) == ["Juan Huamán checked in."]
    assert audit_trail(juan) == [(CHANGE, "Juan Huamán checked in.", checker.email)]
    page = client.get(manifest_url(scene["morning"])).content.decode()
    local = timezone.localtime(at).strftime("%H:%M")
    assert f"Checked in {local} by guide@kallpa.example" in page
    assert page.count('name="present" value="0"') == 1


def test_checking_in_twice_changes_nothing_and_undo_clears_it(client, checker, scene):
    juan = person("Juan Huamán")
    client.post(checkin_url(scene["morning"], juan), {"present": "1"})
    first = Participant.objects.values_list("checked_in_at", flat=True).get(pk=juan.pk)

    client.post(checkin_url(scene["morning"], juan), {"present": "1"})
    assert Participant.objects.values_list("checked_in_at", flat=True).get(pk=juan.pk) == first
    response = client.post(checkin_url(scene["morning"], juan), {"present": "0", "next": "day"})

    juan.refresh_from_db()
    assert (juan.checked_in_at, juan.checked_in_by) == (None, None)
    day = timezone.localdate(scene["morning"].starts_at).isoformat()
    assert response.url == f"/admin/tours/departure/manifest/?date={day}#p-{juan.pk}"
    assert [message for _flag, message, _user in audit_trail(juan)] == [
        "Juan Huamán checked in.",
        "Check-in of Juan Huamán undone.",
    ]


def test_check_in_needs_its_permission(client, scene):
    client.force_login(staff_with_permissions(*MANIFEST))
    juan = person("Juan Huamán")

    response = client.post(checkin_url(scene["morning"], juan), {"present": "1"})

    assert response.status_code == 403
    assert Participant.objects.get(pk=juan.pk).checked_in_at is None
    assert audit_trail(juan) == []
    assert 'name="present"' not in client.get(manifest_url(scene["morning"])).content.decode()


def test_check_in_is_a_post_with_a_csrf_token(checker, scene):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(checker)
    juan = person("Juan Huamán")

    assert browser.get(checkin_url(scene["morning"], juan)).status_code == 405
    assert browser.post(checkin_url(scene["morning"], juan), {"present": "1"}).status_code == 403
    assert Participant.objects.get(pk=juan.pk).checked_in_at is None


def test_a_participant_of_another_departure_is_not_found(client, checker, scene):
    luis = person("Luis Mamani")

    assert client.post(checkin_url(scene["morning"], luis), {"present": "1"}).status_code == 404
    assert Participant.objects.get(pk=luis.pk).checked_in_at is None


def test_a_traveller_who_has_not_paid_cannot_be_checked_in(client, checker, scene):
    ana = person("Ana Paz")

    response = client.post(checkin_url(scene["morning"], ana), {"present": "1"})

    assert admin_messages(response) == ["Only travellers of a confirmed booking can be checked in."]
    assert Participant.objects.get(pk=ana.pk).checked_in_at is None
    assert audit_trail(ana) == []
