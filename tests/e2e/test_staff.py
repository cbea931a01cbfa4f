"""A member of staff (Operations group) builds a tour in the admin and runs its first departure.

Admin sign-in → a tour on a route, in English and Spanish, with a price, published → a two-day
itinerary (stops at two farms) → a recurring schedule with an exception → "Generate departures" and
its report → the public tour page shows the itinerary by day and the generated departures (not the
exception) → a traveller books one through the simulated checkout → the departure's manifest →
check-in on a phone → the CSV. axe-core runs on every admin page the flow visits.
"""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Booking, BookingStatus, Participant
from cacaotours.core.roles import OPERATIONS
from tests.factories import FarmFactory
from tours.models import Departure, DepartureSchedule, Tour

from .checks import axe_violations, tools_missing
from .conftest import PHONE, Flow
from .data import PASSWORD, catalog, person
from .test_traveller import sign_in

pytestmark = pytest.mark.e2e


def autocomplete(page, field_id: str, search: str, choice: str):
    """Choose ``choice`` in an admin autocomplete (select2) field, typing ``search`` first."""
    page.locator(f"#{field_id} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(search)
    page.locator(".select2-results__option", has_text=choice).click()
    expect(page.locator(f"#select2-{field_id}-container")).to_contain_text(choice)


def fill_tour(page, stops):
    """The tour's add form: both languages' texts, practicalities, prices, published; then the stops."""
    page.locator("#id_route").select_option(label="Convención Valley")
    page.locator("#id_title_en").fill("Two Days in the Cacao Forest")
    page.locator("#id_title_es").fill("Dos días en el bosque de cacao")
    expect(page.locator("#id_slug")).to_have_value("two-days-in-the-cacao-forest")  # prepopulated by the admin
    page.locator("#id_summary_en").fill("Harvest, ferment and roast cacao with two families.")
    page.locator("#id_summary_es").fill("Cosecha, fermenta y tuesta cacao con dos familias.")
    page.locator("#id_description_en").fill("Two days among the cacao trees of La Convención.")
    page.locator("#id_description_es").fill("Dos días entre los cacaotales de La Convención.")
    page.locator("#id_is_published").check()
    page.locator("#id_duration_days").fill("2")
    page.locator("#id_meeting_point_en").fill("Plaza de Armas, Quillabamba")
    page.locator("#id_meeting_point_es").fill("Plaza de Armas de Quillabamba")
    page.locator("#id_max_group").fill("8")
    page.locator("#id_adult_price").fill("48000")
    page.locator("#id_child_price").fill("24000")
    # The itinerary: one row of the stops inline per stop ("Add another", the farm by autocomplete).
    for i, (day, order, at, activity, farm, title_en, title_es) in enumerate(stops):
        page.get_by_role("button", name="Add another Itinerary stop").click()
        row = f"id_stops-{i}"
        page.locator(f"#{row}-day").fill(str(day))
        page.locator(f"#{row}-order").fill(str(order))
        page.locator(f"#{row}-time").fill(at)
        page.locator(f"#{row}-activity").select_option(activity)
        autocomplete(page, f"{row}-farm", farm.name_en[:5], farm.name_en)
        page.locator(f"#{row}-title_en").fill(title_en)
        page.locator(f"#{row}-title_es").fill(title_es)


def book_first_departure(shopper, tour, departure, traveller) -> Booking:
    """From the tour page: Book → sign in → 2 adults → the travellers' details → the simulated checkout."""
    buying = shopper.page
    shopper.go(tour.get_absolute_url())
    buying.locator("#dates .departure").first.get_by_role("link", name=re.compile("^Book")).click()
    sign_in(shopper, traveller.email)
    expect(buying).to_have_url(re.compile(f"/book/{departure.pk}/$"))
    buying.get_by_label("Adults").fill("2")
    buying.get_by_label("Children").fill("0")
    expect(buying.locator("[data-estimate-output]")).to_have_text("S/ 960.00")
    buying.get_by_role("button", name="Hold my seats and continue").click()
    booking = Booking.objects.get(user=traveller)
    expect(buying).to_have_url(re.compile(f"/bookings/{booking.reference}/details/$"))
    buying.locator("input[name='p-0-full_name']").fill("Rosa Quispe")
    buying.locator("input[name='p-0-dietary_needs']").fill("vegetarian, no nuts")
    buying.locator("input[name='p-1-full_name']").fill("Juan Huamán")
    buying.get_by_label("Emergency contact name").fill("Domingo Quispe")
    buying.get_by_label("Emergency contact phone").fill("+51 984 222 333")
    buying.get_by_label("Notes for the guide").fill("Juan walks slowly uphill.")
    shopper.shot("details")
    buying.get_by_role("button", name="Continue to payment").click()
    expect(buying).to_have_url(re.compile("/checkout/simulated/"))
    buying.get_by_role("button", name=re.compile("^Pay")).click()
    expect(buying).to_have_url(re.compile(f"/bookings/{booking.reference}/success/$"))
    shopper.shot("confirmation")
    shopper.check()
    return booking


def test_staff_build_a_tour_schedule_departures_and_check_travellers_in(open_flow, site, settings, roles, tmp_path):
    problem = tools_missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    data = catalog()
    lodge = FarmFactory(
        name_en="Doña Rosa's lodge", name_es="Albergue de Doña Rosa", slug="dona-rosa", cooperative=data.cooperative
    )
    staff = person("ops@kallpa.example", first_name="Yolanda", last_name="Ccori", is_staff=True)
    staff.groups.set([Group.objects.get(name=OPERATIONS)])
    traveller = person("rosa@example.com", phone="+51 984 111 222")
    admin = f"/{settings.ADMIN_URL}"
    flow = open_flow("staff")
    page = flow.page
    audited: dict[str, list[dict]] = {}

    def step(name: str, current: Flow = flow):
        """A screenshot of the admin page as it is now, and what axe finds on it."""
        current.shot(name)
        audited[f"{current.name}/{name}"] = axe_violations(current.page, in_place=True)

    # Sign in on the admin's own sign-in page.
    flow.go(admin)
    expect(page).to_have_url(re.compile(f"{admin}login/"))
    page.locator("#id_username").fill(staff.email)
    page.locator("#id_password").fill(PASSWORD)
    step("admin-login")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(site(admin))
    expect(page.locator("#user-tools")).to_contain_text("Yolanda")
    step("admin-index")

    # A tour on the Convención Valley route, in both languages, priced and published, with a two-day
    # itinerary: Don Manuel's farm on day 1, Doña Rosa's lodge on day 2.
    page.get_by_role("link", name="Tours", exact=True).click()
    page.get_by_role("link", name="Add tour").click()
    expect(page).to_have_url(re.compile("/tours/tour/add/$"))
    stops = [
        (1, 1, "08:30", "harvest", data.farm, "Harvest with Don Manuel", "Cosecha con Don Manuel"),
        (1, 2, "15:00", "fermentation", data.farm, "Fermentation boxes", "Cajones de fermentación"),
        (2, 1, "09:00", "workshop", lodge, "Chocolate from the bean", "Chocolate desde el grano"),
    ]
    fill_tour(page, stops)
    step("tour-add")
    page.get_by_role("button", name="Save and continue editing").click()
    tour = Tour.objects.get(slug="two-days-in-the-cacao-forest")
    expect(page).to_have_url(re.compile(f"/tours/tour/{tour.pk}/change/$"))
    assert (tour.route, tour.title_es, tour.adult_price, tour.child_price, tour.is_published) == (
        data.route,
        "Dos días en el bosque de cacao",
        48000,
        24000,
        True,
    )
    assert list(tour.stops.values_list("day", "order", "title_en", "title_es", "farm")) == [
        (day, order, title_en, title_es, farm.pk) for day, order, _at, _act, farm, title_en, title_es in stops
    ]
    # The itinerary by day, with its preview (the public template, framed from the admin).
    editor = page.locator("#itinerary-editor")
    expect(editor.get_by_role("heading", name="Day 2")).to_be_visible()
    expect(editor.get_by_role("row", name=re.compile("Chocolate from the bean"))).to_contain_text("Doña Rosa's lodge")
    editor.locator("iframe").scroll_into_view_if_needed()
    preview = page.frame_locator("#itinerary-editor iframe")
    expect(preview.get_by_role("heading", name="Day 2")).to_be_visible()
    expect(preview.locator(".itinerary-day").nth(1)).to_contain_text("Chocolate from the bean")
    step("tour-itinerary")

    # A recurring schedule: two weekdays for three weeks from next week, one date skipped.
    first = timezone.localdate() + timedelta(days=7)
    dates = [first + timedelta(days=week * 7 + offset) for week in range(3) for offset in (0, 3)]
    skipped = dates[2]
    weekdays = [day.strftime("%A") for day in dates[:2]]
    page.locator("#nav-sidebar").get_by_role("link", name="Departure schedules").click()
    page.get_by_role("link", name="Add departure schedule").click()
    autocomplete(page, "id_tour", "Two Days", "Two Days in the Cacao Forest")
    for weekday in weekdays:
        page.get_by_label(weekday, exact=True).check()
    page.locator("#id_start_time").fill("07:30")
    page.locator("#id_starts_on").fill(f"{first:%Y-%m-%d}")
    page.locator("#id_ends_on").fill(f"{dates[-1]:%Y-%m-%d}")
    page.locator("#id_capacity").fill("8")
    page.locator("#id_guide").fill("Wilber Huamán")
    page.locator("#id_exceptions-0-date").fill(f"{skipped:%Y-%m-%d}")
    page.locator("#id_exceptions-0-reason").fill("Fiesta de la Virgen del Carmen")
    step("schedule-add")
    page.get_by_role("button", name="Save", exact=True).click()
    schedule = DepartureSchedule.objects.get(tour=tour)
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert list(schedule.exceptions.values_list("date", flat=True)) == [skipped]

    # "Generate departures" from the list, and its report.
    page.locator(f"input[name=_selected_action][value='{schedule.pk}']").check()
    page.locator("select[name=action]").select_option("generate_departures")
    step("schedules")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Departures generated")
    report = page.locator(".schedule-report__run")
    expect(report).to_contain_text(
        "Generated departures: 5 departures created, 0 updated, 0 removed, 0 unchanged, "
        "0 with bookings left as they were, 1 date skipped as an exception."
    )
    generated = [day for day in dates if day != skipped]
    expect(report.locator("h3:text-is('Created') + ul > li")).to_have_text(
        [f"{day:%a %-d %b %Y}, 07:30" for day in generated]
    )
    expect(report.locator("h3:text-is('Skipped: exceptions') + ul > li")).to_have_text([f"{skipped:%a %-d %b %Y}"])
    step("generated")
    departures = list(Departure.objects.filter(tour=tour).order_by("starts_at"))
    assert [(timezone.localtime(d.starts_at).date(), d.capacity, d.guide) for d in departures] == [
        (day, 8, "Wilber Huamán") for day in generated
    ]
    flow.check()

    # The public site: the tour on its route's page, the itinerary by day, the generated departures only.
    visitor = open_flow("staff-public")
    public = visitor.page
    visitor.go(data.route.get_absolute_url())
    public.locator("main").get_by_role("link", name=re.compile("Two Days in the Cacao Forest")).first.click()
    expect(public.get_by_role("heading", level=1, name="Two Days in the Cacao Forest")).to_be_visible()
    days = public.locator(".itinerary-day")
    expect(days.locator(".itinerary-day__title")).to_have_text(["Day 1", "Day 2"])
    expect(days.nth(0).locator(".timeline__title")).to_have_text(["Harvest with Don Manuel", "Fermentation boxes"])
    expect(days.nth(0)).to_contain_text("At Don Manuel's farm")
    expect(days.nth(1).locator(".timeline__title")).to_have_text(["Chocolate from the bean"])
    expect(days.nth(1)).to_contain_text("At Doña Rosa's lodge")
    listed = public.locator("#dates .departure")
    expect(listed.locator("time.departure__date")).to_have_count(5)
    for day in generated:
        expect(listed.locator(f"time[datetime^='{day:%Y-%m-%d}T07:30']")).to_have_count(1)
    expect(listed.locator(f"time[datetime^='{skipped:%Y-%m-%d}']")).to_have_count(0)
    expect(listed.first).to_contain_text("Guide: Wilber Huamán")
    visitor.shot("tour")
    visitor.go(f"/es{tour.get_absolute_url()}")
    expect(public.get_by_role("heading", level=1, name="Dos días en el bosque de cacao")).to_be_visible()
    expect(public.locator(".itinerary-day__title")).to_have_text(["Día 1", "Día 2"])
    expect(public.locator(".itinerary-day").nth(1)).to_contain_text("Chocolate desde el grano")
    visitor.shot("tour-es")
    visitor.check()

    # A traveller books the first departure through the simulated checkout.
    booked = departures[0]
    booking = book_first_departure(open_flow("staff-traveller"), tour, booked, traveller)
    booking.refresh_from_db()
    assert (booking.status, booking.departure_id, booking.adults, booking.children) == (
        BookingStatus.CONFIRMED,
        booked.pk,
        2,
        0,
    )

    # Back in the admin: the departure's manifest, from the list of the tour's departures.
    page.locator("#nav-sidebar").get_by_role("link", name="Departures", exact=True).click()
    page.locator("#changelist-filter").get_by_role("link", name="Two Days in the Cacao Forest", exact=True).click()
    when = f"{first:%a %-d %b %Y}, 07:30"
    page.locator("#result_list tbody tr", has_text=when).get_by_role("link", name="Manifest").click()
    expect(page).to_have_url(re.compile(f"/tours/departure/manifest/{booked.pk}/$"))
    manifest = page.locator(f"#booking-{booking.pk}").locator("xpath=..")
    expect(page.locator(".manifest-summary")).to_contain_text("Travellers2 adults, 0 children")
    expect(page.locator(".manifest-summary")).to_contain_text("GuideWilber Huamán")
    expect(page.locator(".manifest-diet")).to_have_text("Dietary needs: Rosa Quispe: vegetarian, no nuts")
    expect(manifest.get_by_role("heading", level=3)).to_have_text(f"{booking.reference} · Rosa Quispe")
    facts = manifest.locator(".manifest-booking__facts")
    expect(facts).to_contain_text("Units2 adults")
    expect(facts).to_contain_text("Emergency contactDomingo Quispe · +51 984 222 333")
    expect(facts).to_contain_text("Phone+51 984 111 222")
    expect(facts).to_contain_text("NotesJuan walks slowly uphill.")
    expect(facts).to_contain_text("PaymentPaid S/ 960.00")
    expect(manifest.locator("tbody th")).to_have_text(["Rosa Quispe", "Juan Huamán"])
    step("manifest")
    flow.check()

    # Check-in on a phone, signed in with the same session.
    phone = open_flow("staff-phone", PHONE, storage_state=page.context.storage_state())
    phone.go(f"{admin}tours/departure/manifest/{booked.pk}/")
    rosa, juan = Participant.objects.filter(booking=booking).order_by("pk")
    check_in = phone.page.get_by_role("button", name="Check in Rosa Quispe")
    box = check_in.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 44, box  # the width of the phone, a thumb's height
    step("manifest-phone", phone)
    check_in.click()
    expect(phone.page).to_have_url(re.compile(f"/manifest/{booked.pk}/#p-{rosa.pk}$"))
    rosa.refresh_from_db()
    juan.refresh_from_db()
    assert (rosa.checked_in_by, juan.checked_in_at) == (staff, None)
    expect(phone.page.locator(".messagelist")).to_have_text("Rosa Quispe checked in.")
    expect(phone.page.locator(f"#p-{rosa.pk}")).to_contain_text(
        f"✓ Checked in {timezone.localtime(rosa.checked_in_at):%H:%M} by ops@kallpa.example"
    )
    expect(phone.page.get_by_role("button", name="Undo check-in of Rosa Quispe")).to_be_visible()
    expect(phone.page.locator(f"#p-{juan.pk}")).to_contain_text("Not checked in")
    expect(phone.page.locator(".manifest-summary")).to_contain_text("Checked in1 / 2")
    step("checked-in-phone", phone)
    phone.check()

    # The CSV: one row per traveller, check-in included, phone numbers kept as text.
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert download.suggested_filename == (
        f"manifest-{timezone.localtime(booked.starts_at):%Y-%m-%d-%H%M}-{booked.pk}.csv"
    )
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    header, *rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")))
    starts = f"{first:%Y-%m-%d} 07:30"
    common = [
        "English",
        "Rosa Quispe",
        "'+51 984 111 222",
        "Domingo Quispe",
        "'+51 984 222 333",
        "Paid S/ 960.00",
        "Juan walks slowly uphill.",
    ]
    assert header == [
        "departure", "tour", "guide", "booking", "participant", "adult or child", "dietary needs", "language",
        "contact", "contact phone", "emergency contact", "emergency phone", "payment", "notes",
        "checked in at", "checked in by",
    ]  # fmt: skip
    assert rows == [
        [
            starts, "Two Days in the Cacao Forest", "Wilber Huamán", booking.reference, "Rosa Quispe", "adult",
            "vegetarian, no nuts", *common, f"{timezone.localtime(rosa.checked_in_at):%Y-%m-%d %H:%M}",
            "ops@kallpa.example",
        ],
        [
            starts, "Two Days in the Cacao Forest", "Wilber Huamán", booking.reference, "Juan Huamán", "adult", "",
            *common, "", "",
        ],
    ]  # fmt: skip
    flow.check()

    # axe-core on every admin page of the flow: nothing serious or critical.
    found = [
        f"{name}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
        for name, violations in audited.items()
        for v in violations
    ]
    assert not found, "\n" + "\n".join(found)
