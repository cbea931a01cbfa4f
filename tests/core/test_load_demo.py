"""``manage.py load_demo``: bilingual, complete, and idempotent."""

from collections import Counter
from datetime import date, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from freezegun import freeze_time
from modeltranslation.translator import translator

from bookings.models import Booking, BookingNote
from cacaotours.core import demo_content
from cooperatives.models import (
    Certification,
    CommunityFund,
    Cooperative,
    JournalEntry,
    Membership,
    Share,
    Transfer,
    TransferReversal,
)
from farms.models import Farm, FarmPhoto
from tours.models import (
    Departure,
    DepartureSchedule,
    ItineraryStop,
    Route,
    RoutePhoto,
    ShareRule,
    Tour,
    TourPhoto,
)

LIMA = ZoneInfo("America/Lima")
COUNTED = [
    Certification,
    Cooperative,
    CommunityFund,
    Membership,
    Farm,
    FarmPhoto,
    Route,
    RoutePhoto,
    Tour,
    TourPhoto,
    ItineraryStop,
    ShareRule,
    Departure,
    Booking,
    Share,
    JournalEntry,
]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def load(*args: str) -> None:
    call_command("load_demo", "--force", "--quiet", *args)


def counts() -> dict[str, int]:
    result = {model._meta.label: model.objects.count() for model in COUNTED}
    result["users"] = get_user_model().objects.count()
    return result


def media_files(root) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def assert_all_translations_filled() -> None:
    checked = 0
    for model in translator.get_registered_models(abstract=False):
        fields = translator.get_options_for_model(model).get_field_names()
        for obj in model.objects.all():
            for field in fields:
                for lang in ("en", "es"):
                    value = getattr(obj, f"{field}_{lang}")
                    assert value and str(value).strip(), f"{model._meta.label} {obj.pk} has no {field}_{lang}"
                    checked += 1
    assert checked > 500


@pytest.mark.django_db
def test_load_demo_twice_creates_nothing_new(media):
    load("--no-photos")
    first = counts()
    load("--no-photos")

    assert counts() == first
    assert first == {
        "cooperatives.Certification": len(demo_content.CERTIFICATIONS),
        "cooperatives.Cooperative": len(demo_content.COOPERATIVES),
        "cooperatives.CommunityFund": len(demo_content.FUNDS),
        "cooperatives.Membership": 1,
        "farms.Farm": len(demo_content.FARMS),
        "farms.FarmPhoto": 0,
        "tours.Route": 3,
        "tours.RoutePhoto": 0,
        "tours.Tour": len(demo_content.TOURS),
        "tours.TourPhoto": 0,
        "tours.ItineraryStop": sum(len(tour["stops"]) for tour in demo_content.TOURS),
        "tours.ShareRule": sum(len(tour["share_rules"]) for tour in demo_content.TOURS),
        "tours.Departure": first["tours.Departure"],
        "bookings.Booking": len(demo_content.DEMO_BOOKINGS),
        "cooperatives.Share": first["cooperatives.Share"],
        "cooperatives.JournalEntry": first["cooperatives.JournalEntry"],
        "users": 4,
    }
    assert first["tours.Departure"] > 150
    assert first["cooperatives.Share"] >= 3 * len(demo_content.DEMO_BOOKINGS)
    assert media_files(media) == set()


@pytest.mark.django_db
def test_load_demo_content_is_complete(media):
    load("--no-photos")

    assert Tour.objects.filter(is_published=True).count() >= 6
    assert Tour.objects.filter(is_featured=True, is_published=True).exists()
    assert Tour.objects.filter(currency="USD").exists() and Tour.objects.filter(currency="PEN").exists()
    assert Tour.objects.filter(duration_days__gt=1, stops__activity=ItineraryStop.Activity.LODGE).exists()
    assert Farm.objects.count() >= 6
    assert Cooperative.objects.count() >= 3
    assert set(Route.objects.values_list("name_en", flat=True)) == {
        "Quillabamba Valley",
        "Convención Valley",
        "Madre de Dios rainforest",
    }
    assert set(CommunityFund.objects.values_list("purpose", flat=True)) >= {"reforestation", "women", "youth"}

    don_manuel = Farm.objects.get(slug="don-manuel-family-farm")
    assert "Manuel" in don_manuel.host_family
    assert don_manuel.cooperative.slug == "quillabamba-cacao-producers"
    assert abs(float(don_manuel.latitude) - -12.86) < 0.1 and abs(float(don_manuel.longitude) - -72.69) < 0.1

    # Every tour has an itinerary, farms on it, and share rules within 100%.
    for tour in Tour.objects.all():
        bp = tour.share_rules.aggregate(total=Sum("basis_points"))["total"]
        assert 0 < bp <= 10_000, tour.slug
        assert tour.stops.count() >= 2, tour.slug
        if tour.is_published:
            assert 2500 <= bp <= 4000, tour.slug
            assert tour.stops.filter(farm__isnull=False).exists(), tour.slug
            assert tour.max_group >= tour.min_group >= 1
            assert tour.child_price < tour.adult_price

    # Payout methods are mixed and valid.
    methods = set(Cooperative.objects.values_list("payout_method", flat=True))
    assert methods == {"bank_transfer", "stripe_connect", "none"}
    stripe = Cooperative.objects.get(payout_method="stripe_connect")
    assert stripe.can_receive_stripe_transfers and stripe.stripe_account_id.startswith("acct_")
    for recipient in [*Cooperative.objects.all(), *CommunityFund.objects.all(), *Farm.objects.all()]:
        recipient.full_clean()
        if recipient.payout_method == "bank_transfer":
            assert len(recipient.bank_cci) == 20 and recipient.bank_cci.isdigit() and recipient.bank_account_holder
    assert Cooperative.objects.get(slug="quillabamba-cacao-producers").certifications.filter(code="organic").exists()
    assert all(
        email.endswith(("@example.com", "@kallpa.example"))
        for email in Cooperative.objects.exclude(contact_email="").values_list("contact_email", flat=True)
    )

    assert_all_translations_filled()


@pytest.mark.django_db
def test_load_demo_departures_are_in_the_next_90_days(media):
    load("--no-photos")

    today = timezone.localdate(timezone=LIMA)
    departures = Departure.objects.select_related("tour")
    assert departures.exists()
    for departure in departures:
        local = departure.starts_at.astimezone(LIMA)
        assert today < local.date() <= today + timedelta(days=90)
        assert 5 <= local.hour <= 15
        assert 8 <= departure.capacity <= 16 and departure.capacity <= departure.tour.max_group
        assert departure.guide
        assert departure.tour.is_published
    for tour in Tour.objects.filter(is_published=True):
        weekly = tour.departures.filter(starts_at__lt=timezone.now() + timedelta(days=15)).count()
        assert 2 <= weekly <= 8, tour.slug  # 2-3 a week
    assert Departure.objects.filter(status=Departure.Status.CLOSED).count() >= 1
    assert Departure.objects.filter(status=Departure.Status.CANCELLED).count() == 1
    assert Departure.objects.filter(status=Departure.Status.OPEN).count() > 150


@pytest.mark.django_db
def test_load_demo_a_week_later_adds_only_the_new_week(media):
    with freeze_time("2026-03-02 15:00:00+00:00"):
        load("--no-photos")
        before = {(d.tour_id, d.starts_at, d.status) for d in Departure.objects.all()}
    with freeze_time("2026-03-09 15:00:00+00:00"):
        load("--no-photos")
        after = {(d.tour_id, d.starts_at, d.status) for d in Departure.objects.all()}

    weekly = sum(len(t["departures"]["weekdays"]) for t in demo_content.TOURS if t["departures"] and t["is_published"])
    assert before <= after
    assert len(after) == len(before) + weekly
    assert Departure.objects.filter(status=Departure.Status.CANCELLED).count() == 1


@pytest.mark.django_db
def test_load_demo_makes_one_recurring_schedule_with_a_date_skipped(media):
    with freeze_time("2026-03-02 15:00:00+00:00"):  # Monday 2 March in Lima
        load("--no-photos")
        load("--no-photos")

    schedule = DepartureSchedule.objects.get()
    assert (schedule.tour.slug, schedule.weekdays, schedule.weekdays_display, f"{schedule.start_time:%H:%M}") == (
        "warmikuna-chocolate-cosmetics-workshop",
        "3,6,7",
        "Wed, Sat, Sun",
        "14:00",
    )
    assert (str(schedule.starts_on), str(schedule.ends_on)) == ("2026-03-03", "2026-05-31")
    assert list(schedule.exceptions.values_list("date", flat=True)) == [date(2026, 3, 11)]
    days = [d.starts_at.astimezone(LIMA).date() for d in schedule.departures.order_by("starts_at")]
    assert days[:4] == [date(2026, 3, 4), date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 14)]
    assert len(days) == len(set(days)) == 38  # 13 weeks × 3, less the one skipped
    assert Departure.objects.filter(tour=schedule.tour, schedule__isnull=True).count() == 0


@pytest.mark.django_db
def test_load_demo_users(media):
    load("--no-photos")
    load("--no-photos")

    users = get_user_model().objects
    staff = users.get(email="staff@kallpa.example")
    assert staff.is_staff and not staff.is_superuser and staff.check_password("cacao-demo-2026")
    assert sorted(staff.groups.values_list("name", flat=True)) == ["Finance", "Operations"]
    assert staff.has_perm("bookings.move_booking") and staff.has_perm("cooperatives.manage_payouts")
    assert not staff.has_perm("users.change_user") and not staff.has_perm("auth.change_group")
    owner = users.get(email="owner@kallpa.example")
    assert owner.is_staff and owner.is_superuser and owner.check_password("cacao-demo-2026")
    assert users.filter(is_superuser=True).get() == owner
    leader = users.get(email="leader@kallpa.example")
    assert not leader.is_superuser and not leader.is_staff and leader.check_password("cacao-demo-2026")
    membership = Membership.objects.get(user=leader)
    assert membership.role == Membership.Role.LEADER
    assert membership.cooperative.slug == "quillabamba-cacao-producers"
    traveller = users.get(email="traveller@kallpa.example")
    assert not traveller.is_staff and traveller.check_password("cacao-demo-2026")
    assert not traveller.memberships.exists()


@pytest.mark.django_db
def test_load_demo_bookings_are_paid_through_the_ledger(media, django_capture_on_commit_callbacks):
    # The services' after-commit work (routing the shares, the refund) runs, as it does outside tests.
    with django_capture_on_commit_callbacks(execute=True):
        load("--no-photos")

    bookings = Booking.objects.select_related("departure__tour", "user")
    assert Counter(b.status for b in bookings) == {"confirmed": len(demo_content.DEMO_BOOKINGS) - 1, "refunded": 1}
    assert len({b.departure.tour_id for b in bookings}) == len(demo_content.DEMO_BOOKINGS)
    assert {b.currency for b in bookings} == {"PEN", "USD"}
    for booking in bookings:
        assert booking.user.email == demo_content.TRAVELLER_EMAIL
        assert booking.departure.starts_at > timezone.now() + timedelta(days=4)
        assert booking.payments.get().status in ("succeeded", "refunded")
        assert booking.shares.exists()
    assert set(Share.objects.values_list("status", flat=True)) == {"owed", "transferred", "reversed"}
    assert Share.objects.filter(needs_attention=True).exists()  # a recipient without payout details
    assert Transfer.objects.filter(status="created").exists()
    assert TransferReversal.objects.filter(status="created").count() == 1
    assert set(JournalEntry.objects.values_list("kind", flat=True)) == {
        "split",
        "transfer",
        "refund",
        "transfer_reversal",
    }
    cancelled = Booking.objects.get(status="refunded")
    assert not cancelled.shares.exclude(status="reversed").exists()
    # Something for the staff pages: a flag to resolve and an internal note, on the same booking.
    flagged = Booking.objects.get(flagged=True)
    assert flagged.flag_reason.startswith("Payment disputed (US$ 25.00 at risk)")
    note = BookingNote.objects.get()
    assert (note.booking, note.kind, note.author.email) == (flagged, "note", demo_content.STAFF_EMAIL)

    before = counts() | {"transfers": Transfer.objects.count(), "reversals": TransferReversal.objects.count()}
    with django_capture_on_commit_callbacks(execute=True):
        load("--no-photos")
    assert counts() | {"transfers": Transfer.objects.count(), "reversals": TransferReversal.objects.count()} == before


@pytest.mark.django_db
def test_load_demo_skips_bookings_without_the_simulated_checkout(media, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_not_used"
    out = StringIO()

    call_command("load_demo", "--force", "--no-photos", stdout=out)

    assert not Booking.objects.exists()
    assert Tour.objects.count() == len(demo_content.TOURS)
    assert "Demo bookings skipped" in out.getvalue()


@pytest.mark.django_db
def test_load_demo_restores_edited_content_and_keeps_admin_additions(media):
    load("--no-photos")
    tour = Tour.objects.get(slug="pod-to-bar-don-manuel")
    Tour.objects.filter(pk=tour.pk).update(title_es="cambiado", max_group=30)
    departures = tour.departures.count()

    load("--no-photos")

    tour.refresh_from_db()
    assert tour.title_es == "De la mazorca a la tableta en la chacra de Don Manuel"
    assert tour.max_group == 12
    assert tour.departures.count() == departures


@pytest.mark.django_db
def test_load_demo_with_photos_twice(media):
    load("--photos-limit", "1", "--photo-size", "320x200", "--jobs", "2")
    first = counts()
    files = media_files(media)
    load("--photos-limit", "1", "--photo-size", "320x200", "--jobs", "2")

    assert counts() == first
    assert media_files(media) == files
    assert first["tours.RoutePhoto"] == Route.objects.count() == 3
    assert first["tours.TourPhoto"] == Tour.objects.count()
    assert first["farms.FarmPhoto"] == Farm.objects.count()
    for photo in [*RoutePhoto.objects.all(), *TourPhoto.objects.all(), *FarmPhoto.objects.all()]:
        assert photo.width == 320 and photo.height == 200
        assert set(photo.renditions) == {"thumb", "card", "hero"}
        assert (media / photo.image.name).is_file()
        assert (media / photo.renditions["thumb"]["webp"]).is_file()
    # master + 3 renditions x (jpeg, webp) per photo, nothing else
    assert len(files) == 7 * (first["tours.RoutePhoto"] + first["tours.TourPhoto"] + first["farms.FarmPhoto"])
    assert_all_translations_filled()


@pytest.mark.django_db
def test_load_demo_photo_failure_leaves_no_partial_owner(media, monkeypatch):
    from cacaotours.core import demo_images

    real_generate = demo_images.generate

    def generate(kind, seed, width, height):
        if kind == "fermentation":  # the third photo of the first route
            raise RuntimeError("drawing failed")
        return real_generate(kind, seed, width, height)

    monkeypatch.setattr(demo_images, "generate", generate)
    with pytest.raises(RuntimeError, match="drawing failed"):
        load("--photo-size", "240x160", "--jobs", "1")

    assert Tour.objects.count() == len(demo_content.TOURS)  # the content itself was committed
    assert RoutePhoto.objects.count() == 0
    assert media_files(media) == set()  # the two stored photos of that route were removed again

    monkeypatch.setattr(demo_images, "generate", real_generate)
    load("--photos-limit", "1", "--photo-size", "240x160", "--jobs", "1")
    assert RoutePhoto.objects.count() == 3
    assert not Tour.objects.filter(photos__isnull=True).exists()


def test_load_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo", "--quiet", "--no-photos")


@pytest.mark.django_db
def test_load_demo_prints_the_links_of_the_port_it_is_told(media):
    out = StringIO()
    call_command("load_demo", "--force", "--no-photos", "--base-url", "http://127.0.0.1:8001", stdout=out)
    printed = out.getvalue()
    assert "Site:      http://127.0.0.1:8001/   (Spanish: http://127.0.0.1:8001/es/)" in printed
    assert "Portal:    http://127.0.0.1:8001/es/portal/" in printed
    assert ":8000" not in printed


@pytest.mark.django_db
def test_load_demo_refuses_a_base_url_that_is_not_one(media):
    with pytest.raises(CommandError, match="--base-url must start with http"):
        call_command("load_demo", "--force", "--no-photos", "--base-url", "127.0.0.1:8001")
    assert not Tour.objects.exists()
