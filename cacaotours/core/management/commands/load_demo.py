"""``manage.py load_demo``: load the bilingual demo catalog into a local database.

Idempotent: every record is keyed (slugs, e-mails, (tour, day, order) for stops, (tour,
recipient) for share rules, (tour, starts_at) for departures, (tour, weekdays, time) for the
one recurring schedule) and updated in place, so a second run creates nothing. Departures are
added for the next 90 days from today in America/Lima; ones created by an earlier run are left
as they are. One tour's departures come from a recurring schedule (with one date skipped). Photos are generated
only for routes, tours and farms that have none yet, and are stored through ``photo_store``
like an admin upload.

Bookings made by people are never touched. The demo traveller gets a few paid bookings,
made once through the real booking flow and the simulated checkout (so revenue shares,
journal entries, transfers, owed shares and one refund exist for the admin); a marker in
their notes keeps a second run from booking again. Without the simulated checkout (a
Stripe key is set) they are skipped.

The content itself is in ``cacaotours.core.demo_content``. The command creates staff users
(and the owner's superuser) with a public password, so it refuses to run unless DEBUG is on
(or --force).
"""

from __future__ import annotations

import os
import time
import zlib
from collections import Counter
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.test.utils import override_settings
from django.utils import timezone, translation

from bookings import gateway
from bookings.models import Booking, BookingStatus
from bookings.services import (
    BookingError,
    booking_cancel,
    booking_checkout_start,
    booking_details_save,
    booking_flag,
    booking_hold_seats,
    booking_note_add,
    simulated_checkout_complete,
)
from cacaotours.core import demo_content as content
from cacaotours.core.catalog_version import catalog_changed
from cacaotours.core.demo_content import T
from cacaotours.core.images import delete_rendered, photo_store, rendered_paths
from cacaotours.core.roles import roles_sync
from cooperatives.models import Certification, CommunityFund, Cooperative, Membership
from farms.models import Farm, FarmPhoto
from tours.models import (
    Departure,
    DepartureSchedule,
    ItineraryStop,
    Route,
    RoutePhoto,
    ScheduleException,
    ShareRule,
    Tour,
    TourPhoto,
)
from tours.selectors import departure_queryset_with_availability
from tours.services import SeatsUnavailable, departures_generate, share_rules_validate_total

LIMA = ZoneInfo("America/Lima")
DEPARTURE_DAYS = 90
DEFAULT_PHOTO_SIZE = (1200, 750)
BASE_URL = "http://127.0.0.1:8000/"


def _expand(values: dict) -> dict:
    """``{"name": T(en, es)}`` -> ``{"name_en": en, "name_es": es}``; other values unchanged."""
    expanded = {}
    for key, value in values.items():
        if isinstance(value, T):
            expanded[f"{key}_en"], expanded[f"{key}_es"] = value.en, value.es
        else:
            expanded[key] = value
    return expanded


def _pick(spec: dict, *keys: str) -> dict:
    return {key: spec[key] for key in keys if key in spec}


def _payout(spec: dict) -> dict:
    """Payout fields with the unused ones cleared, so a changed method leaves no stale details."""
    return {
        "payout_method": spec.get("payout_method", "none"),
        "bank_name": spec.get("bank_name", ""),
        "bank_account_holder": spec.get("bank_account_holder", ""),
        "bank_cci": spec.get("bank_cci", ""),
        "stripe_account_id": spec.get("stripe_account_id", ""),
        "stripe_transfers_enabled": spec.get("stripe_transfers_enabled", False),
    }


class DemoLoader:
    """Writes the demo content; call ``load_content`` inside a transaction."""

    def __init__(self, *, today: date, base_url: str = BASE_URL):
        self.today = today
        self.base_url = base_url
        self.tally: Counter[str] = Counter()
        self.cooperatives: dict[str, Cooperative] = {}
        self.funds: dict[str, CommunityFund] = {}
        self.farms: dict[str, Farm] = {}
        self.routes: dict[str, Route] = {}
        self.tours: dict[str, Tour] = {}
        self.certifications: dict[str, Certification] = {}
        self.notes: list[str] = []

    # -- generic upsert ------------------------------------------------------------------
    def upsert(self, model: type[models.Model], lookup: dict, values: dict) -> models.Model:
        """Create or update one row, validated with ``full_clean``; saves only when something changed."""
        values = _expand(values)
        obj = model.objects.filter(**lookup).first()
        label = model._meta.verbose_name_plural
        if obj is None:
            obj = model(**lookup, **values)
            outcome = "created"
        else:
            changed = [key for key, value in values.items() if getattr(obj, key) != value]
            if not changed:
                self.tally[f"{label}|unchanged"] += 1
                return obj
            for key in changed:
                setattr(obj, key, values[key])
            outcome = "updated"
        obj.full_clean()
        obj.save()
        self.tally[f"{label}|{outcome}"] += 1
        return obj

    # -- content -------------------------------------------------------------------------
    def load_content(self) -> None:
        for spec in content.CERTIFICATIONS:
            self.certifications[spec["code"]] = self.upsert(
                Certification, {"code": spec["code"]}, {"name": spec["name"]}
            )
        for spec in content.COOPERATIVES:
            self._cooperative(spec)
        for spec in content.FUNDS:
            self._fund(spec)
        for spec in content.FARMS:
            self._farm(spec)
        for spec in content.ROUTES:
            self.routes[spec["slug"]] = self.upsert(
                Route,
                {"slug": spec["slug"]},
                _pick(spec, "name", "region", "summary", "description", "order") | {"is_published": True},
            )
        for index, spec in enumerate(content.TOURS):
            self._tour(spec, index)
        roles_sync()  # the staff groups (the migration creates them; a flushed database needs them again)
        for spec in content.USERS:
            self._user(spec)

    def _cooperative(self, spec: dict) -> None:
        values = (
            _pick(
                spec,
                "name",
                "community",
                "region",
                "summary",
                "story",
                "founded",
                "members",
                "contact_name",
                "contact_email",
                "contact_phone",
            )
            | _payout(spec)
            | {"is_published": True}
        )
        coop = self.upsert(Cooperative, {"slug": spec["slug"]}, values)
        wanted = [self.certifications[code] for code in spec["certifications"]]
        if set(coop.certifications.all()) != set(wanted):
            coop.certifications.set(wanted)
        self.cooperatives[spec["slug"]] = coop

    def _fund(self, spec: dict) -> None:
        coop = self.cooperatives[spec["cooperative"]] if spec["cooperative"] else None
        values = _pick(spec, "name", "purpose", "summary", "description") | _payout(spec)
        values |= {"cooperative_id": coop.pk if coop else None, "is_published": True}
        self.funds[spec["slug"]] = self.upsert(CommunityFund, {"slug": spec["slug"]}, values)

    def _farm(self, spec: dict) -> None:
        values = _pick(
            spec, "name", "host_family", "region", "summary", "story", "altitude_m", "hectares", "latitude", "longitude"
        )
        values |= spec["crops"] | spec["practices"] | _payout(spec)
        values |= {"cooperative_id": self.cooperatives[spec["cooperative"]].pk, "is_published": True}
        self.farms[spec["slug"]] = self.upsert(Farm, {"slug": spec["slug"]}, values)

    def _tour(self, spec: dict, index: int) -> None:
        values = _pick(
            spec,
            "title",
            "summary",
            "description",
            "duration_days",
            "duration_hours",
            "difficulty",
            "languages",
            "meeting_point",
            "includes",
            "excludes",
            "what_to_bring",
            "min_group",
            "max_group",
            "currency",
            "adult_price",
            "child_price",
            "is_published",
            "is_featured",
        )
        values["route_id"] = self.routes[spec["route"]].pk
        tour = self.upsert(Tour, {"slug": spec["slug"]}, values)
        self.tours[spec["slug"]] = tour

        keep = []
        for stop in spec["stops"]:
            farm = self.farms[stop["farm"]] if stop["farm"] else None
            obj = self.upsert(
                ItineraryStop,
                {"tour": tour, "day": stop["day"], "order": stop["order"]},
                {
                    "time": stop["time"],
                    "activity": stop["activity"],
                    "farm_id": farm.pk if farm else None,
                    "title": stop["title"],
                    "description": stop["description"],
                },
            )
            keep.append(obj.pk)
        removed, _ = ItineraryStop.objects.filter(tour=tour).exclude(pk__in=keep).delete()
        if removed:
            self.tally[f"{ItineraryStop._meta.verbose_name_plural}|deleted"] += removed

        for rule in spec["share_rules"]:
            if "cooperative" in rule:
                recipient = {"cooperative": self.cooperatives[rule["cooperative"]]}
            elif "fund" in rule:
                recipient = {"fund": self.funds[rule["fund"]]}
            else:
                recipient = {"farm": self.farms[rule["farm"]]}
            self.upsert(
                ShareRule,
                {"tour": tour, **recipient},
                {"basis_points": rule["basis_points"], "purpose": rule["purpose"]},
            )
        # Rules added by hand in the admin stay; the total must still be at most 100%.
        share_rules_validate_total(basis_points=list(tour.share_rules.values_list("basis_points", flat=True)))

        if spec["departures"] and tour.is_published:
            if spec["departures"].get("schedule"):
                self._schedule(tour, spec["departures"], index)
            else:
                self._departures(tour, spec["departures"], index)

    def _schedule(self, tour: Tour, spec: dict, index: int) -> None:
        """A recurring schedule over the next 90 days, with one exception in its second week, and the
        departures it generates (``departures_generate``: a second run creates nothing). A later run
        extends the schedule to 90 days from its own today; its exceptions stay as they are."""
        first, last = self.today + timedelta(days=1), self.today + timedelta(days=DEPARTURE_DAYS)
        weekdays = ",".join(str(day + 1) for day in sorted(spec["weekdays"]))  # ISO weekdays (1 = Monday)
        label = DepartureSchedule._meta.verbose_name_plural
        schedule = DepartureSchedule.objects.filter(tour=tour, weekdays=weekdays, start_time=spec["time"]).first()
        if schedule is None:
            schedule = DepartureSchedule.objects.create(
                tour=tour,
                weekdays=weekdays,
                start_time=spec["time"],
                starts_on=first,
                ends_on=last,
                capacity=spec["capacity"],
                guide=content.GUIDES[index % len(content.GUIDES)],
            )
            second_week = (first + timedelta(days=offset) for offset in range(7, 14))
            skipped = next(day for day in second_week if day.weekday() in spec["weekdays"])
            ScheduleException.objects.create(schedule=schedule, date=skipped, reason=spec["schedule"])
            self.tally[f"{label}|created"] += 1
        elif schedule.ends_on < last:
            schedule.ends_on = last
            schedule.save(update_fields=["ends_on", "updated_at"])
            self.tally[f"{label}|updated"] += 1
        else:
            self.tally[f"{label}|unchanged"] += 1
        run = departures_generate(schedule_id=schedule.pk)
        self.tally[f"{Departure._meta.verbose_name_plural}|created"] += len(run.created)
        self.tally[f"{Departure._meta.verbose_name_plural}|unchanged"] += run.unchanged + len(run.kept_booked)

    def _departures(self, tour: Tour, schedule: dict, index: int) -> None:
        existing = set(Departure.objects.filter(tour=tour).values_list("starts_at", flat=True))
        statuses = set(Departure.objects.filter(tour=tour).values_list("status", flat=True))
        # One closed / one cancelled departure per marked tour, chosen among the new ones of the
        # first run only (a later run sees the status exists and adds open departures).
        special = {
            schedule[key]: status
            for key, status in (("closed", Departure.Status.CLOSED), ("cancelled", Departure.Status.CANCELLED))
            if key in schedule and status not in statuses
        }
        new = []
        for offset in range(1, DEPARTURE_DAYS + 1):
            day = self.today + timedelta(days=offset)
            if day.weekday() not in schedule["weekdays"]:
                continue
            starts_at = datetime.combine(day, schedule["time"], tzinfo=LIMA)
            if starts_at in existing:
                continue
            guide = content.GUIDES[(day.toordinal() + index) % len(content.GUIDES)]
            status = special.get(len(new) + 1, Departure.Status.OPEN)
            new.append(
                Departure(tour=tour, starts_at=starts_at, capacity=schedule["capacity"], guide=guide, status=status)
            )
        Departure.objects.bulk_create(new)
        self.tally[f"{Departure._meta.verbose_name_plural}|created"] += len(new)
        self.tally[f"{Departure._meta.verbose_name_plural}|unchanged"] += len(existing)

    def _user(self, spec: dict) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(email=spec["email"]).first()
        created = user is None
        if created:
            user = user_model(email=spec["email"])
        fields = _pick(spec, "first_name", "last_name", "is_staff", "is_superuser", "preferred_language", "country")
        changed = created or any(getattr(user, key) != value for key, value in fields.items()) or not user.is_active
        for key, value in fields.items():
            setattr(user, key, value)
        user.is_active = True
        if created or not user.check_password(content.DEMO_PASSWORD):
            user.set_password(content.DEMO_PASSWORD)
            changed = True
        groups = set(spec.get("groups", []))
        if not created and set(user.groups.values_list("name", flat=True)) != groups:
            changed = True
        if changed:
            user.save()
            user.groups.set(Group.objects.filter(name__in=groups))
        self.tally[f"users|{'created' if created else 'updated' if changed else 'unchanged'}"] += 1
        for coop_slug, role in spec.get("memberships", []):
            _, made = Membership.objects.update_or_create(
                user=user, cooperative=self.cooperatives[coop_slug], defaults={"role": role}
            )
            self.tally[f"memberships|{'created' if made else 'unchanged'}"] += 1

    # -- demo bookings -------------------------------------------------------------------
    def load_bookings(self) -> None:
        """The demo traveller's paid bookings, through the booking services (after ``load_content``).

        Not inside a transaction: the services commit step by step and run their follow-up work
        (routing the shares, refunds) after commit; Celery runs it at once without REDIS_URL, in
        a worker with it. The demo e-mails are not sent (the dummy e-mail backend) when run here.
        """
        if gateway.stripe_enabled() or not settings.SIMULATED_CHECKOUT:
            self.notes.append(
                "Demo bookings skipped: they are paid through the simulated checkout, which is off "
                "when STRIPE_SECRET_KEY is set (or SIMULATED_CHECKOUT is False)."
            )
            return
        traveller = get_user_model().objects.get(email=content.TRAVELLER_EMAIL)
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            for spec in content.DEMO_BOOKINGS:
                try:
                    outcome = self._demo_booking(spec, traveller)
                except (BookingError, SeatsUnavailable) as exc:
                    self.notes.append(f"Demo booking {spec['key']} skipped: {exc}")
                    outcome = "skipped"
                self.tally[f"demo bookings|{outcome}"] += 1

    def _demo_booking(self, spec: dict, traveller) -> str:
        marker = f"[demo:{spec['key']}]"
        booking = Booking.objects.filter(user=traveller, notes__endswith=marker).order_by("pk").first()
        outcome = "unchanged"
        if booking is None:
            travellers = spec["travellers"]
            children = sum(1 for _name, is_child, _diet in travellers if is_child)
            now = timezone.now()
            departure = (
                departure_queryset_with_availability(now)
                .filter(
                    tour=self.tours[spec["tour"]],
                    status=Departure.Status.OPEN,
                    starts_at__gte=now + timedelta(days=spec["days_ahead"]),
                    seats_left__gte=len(travellers),
                )
                .order_by("starts_at")
                .first()
            )
            if departure is None:
                raise BookingError(f"no open departure of {spec['tour']} {spec['days_ahead']}+ days ahead")
            booking = booking_hold_seats(
                departure_id=departure.pk,
                adults=len(travellers) - children,
                children=children,
                user=traveller,
                language=spec["language"],
            )
            booking = booking_details_save(
                booking=booking,
                participants=[
                    {"full_name": name, "is_child": is_child, "dietary_needs": diet}
                    for name, is_child, diet in travellers
                ],
                emergency_contact_name="Jordan Traveller",
                emergency_contact_phone="+1 555 010 0199",
                notes=f"{spec['notes']} {marker}",
                language=spec["language"],
            )
            booking_checkout_start(booking=booking, base_url=self.base_url.rstrip("/"))
            simulated_checkout_complete(payment=booking.payments.order_by("-pk").first(), outcome="pay")
            outcome = "created"
        if spec.get("flag") and outcome == "created":
            booking_flag(booking_id=booking.pk, reason=spec["flag"])
        if spec.get("staff_note") and outcome == "created":
            staff = get_user_model().objects.get(email=content.STAFF_EMAIL)
            booking_note_add(booking_id=booking.pk, author=staff, text=spec["staff_note"])
        if spec.get("cancel"):
            booking.refresh_from_db(fields=["status"])
            if booking.status == BookingStatus.CONFIRMED:
                booking_cancel(booking=booking, actor=traveller, reason=spec["cancel"])
                outcome = "updated" if outcome == "unchanged" else outcome
        return outcome

    # -- photos --------------------------------------------------------------------------
    def photo_jobs(self, limit: int | None) -> list[tuple[type[models.Model], str, models.Model, list]]:
        """(photo model, FK name, owner, photo specs) for every owner that has no photo yet."""
        groups = [
            (RoutePhoto, "route", self.routes, content.ROUTES),
            (TourPhoto, "tour", self.tours, content.TOURS),
            (FarmPhoto, "farm", self.farms, content.FARMS),
        ]
        jobs = []
        for photo_model, fk, owners, specs in groups:
            with_photos = set(photo_model.objects.values_list(f"{fk}_id", flat=True).distinct())
            for spec in specs:
                owner = owners[spec["slug"]]
                if owner.pk not in with_photos:
                    jobs.append((photo_model, fk, owner, spec["photos"][:limit]))
        return jobs


class _SerialExecutor(Executor):
    def submit(self, fn, /, *args, **kwargs):
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


class Command(BaseCommand):
    help = (
        "Load bilingual demo content (routes, cooperatives, funds, farms, tours, departures, photos, four "
        "demo users and the demo traveller's paid bookings). Safe to run again: nothing is duplicated and "
        "other bookings are never touched. Local demo only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-photos", action="store_true", help="Do not generate photos (fast; for tests).")
        parser.add_argument(
            "--photos-limit",
            type=int,
            default=None,
            metavar="N",
            help="At most N photos per route, tour and farm (owners that already have photos are skipped anyway).",
        )
        parser.add_argument(
            "--photo-size",
            default=f"{DEFAULT_PHOTO_SIZE[0]}x{DEFAULT_PHOTO_SIZE[1]}",
            metavar="WxH",
            help="Size of the generated photos (default %(default)s; at least 200x150).",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help="Processes that draw photos in parallel (default %(default)s; 1 = no subprocesses).",
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing (errors still raise).")
        parser.add_argument(
            "--base-url",
            default=BASE_URL,
            help="Where the site will be served, for the printed links and the demo checkouts (default %(default)s).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo superuser has a public password: never on a public server.",
        )

    def handle(self, *args, **options):
        quiet = options["quiet"] or options["verbosity"] == 0
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "load_demo creates a superuser with a publicly known password, so it runs only with DEBUG=True "
                "(use the local settings). Pass --force to run it anyway, e.g. in tests."
            )
        try:
            width, height = (int(part) for part in options["photo_size"].lower().split("x"))
        except ValueError as exc:
            raise CommandError("--photo-size must look like 1200x750") from exc
        if width < 200 or height < 150:
            raise CommandError("--photo-size must be at least 200x150 (photo_store refuses smaller photos)")
        if options["photos_limit"] is not None and options["photos_limit"] < 0:
            raise CommandError("--photos-limit must be 0 or more")

        base_url = options["base_url"].rstrip("/") + "/"
        if not base_url.startswith(("http://", "https://")):
            raise CommandError("--base-url must start with http:// or https://")
        started = time.monotonic()
        loader = DemoLoader(today=timezone.localdate(timezone=LIMA), base_url=base_url)
        with translation.override(settings.LANGUAGE_CODE):
            with transaction.atomic():
                loader.load_content()
            loader.load_bookings()
            content_seconds = time.monotonic() - started
            photos = 0
            if not options["no_photos"] and options["photos_limit"] != 0:
                photos = self._photos(loader, options["photos_limit"], (width, height), options["jobs"], quiet)
        catalog_changed()  # cached catalog fragments show the (re)loaded content at once
        if quiet:
            return
        self._report(loader, photos, content_seconds, time.monotonic() - started)

    # -- photos --------------------------------------------------------------------------
    def _photos(self, loader: DemoLoader, limit: int | None, size: tuple[int, int], jobs: int, quiet: bool) -> int:
        from cacaotours.core.demo_images import generate  # the slow part: imported only when drawing

        owners = loader.photo_jobs(limit)
        total = sum(len(specs) for *_, specs in owners)
        if not total:
            return 0
        if not quiet:
            self.stdout.write(f"Drawing and storing {total} photos for {len(owners)} routes, tours and farms…")
        executor: Executor
        try:
            executor = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else _SerialExecutor()
        except (OSError, NotImplementedError):  # no usable multiprocessing here: draw in this process
            executor = _SerialExecutor()
        stored = 0
        with executor:
            futures = [
                [
                    executor.submit(generate, kind, zlib.crc32(f"{fk}:{owner.slug}:{order}".encode()), *size)
                    for order, (kind, _caption) in enumerate(specs)
                ]
                for _, fk, owner, specs in owners
            ]
            # Owner by owner, in its own transaction: an interrupted run leaves owners either with all
            # their photos or with none, and the next run completes the ones with none.
            for (photo_model, fk, owner, specs), owner_futures in zip(owners, futures, strict=True):
                done = []
                try:
                    with transaction.atomic():
                        for order, ((kind, caption), future) in enumerate(zip(specs, owner_futures, strict=True)):
                            alt = content.PHOTO_ALT[kind]
                            photo = photo_model(
                                **{fk: owner},
                                order=order,
                                alt_text_en=alt.en,
                                alt_text_es=alt.es,
                                caption_en=caption.en,
                                caption_es=caption.es,
                            )
                            photo_store(photo=photo, upload=ContentFile(future.result(), name=f"{owner.slug}.jpg"))
                            done.append(photo)
                except BaseException:
                    # The rows were rolled back; remove their files too and stop drawing.
                    for photo in done:
                        delete_rendered(rendered_paths(photo))
                    executor.shutdown(wait=False, cancel_futures=True)
                    raise
                stored += len(done)
        return stored

    # -- output --------------------------------------------------------------------------
    def _report(self, loader: DemoLoader, photos: int, content_seconds: float, seconds: float) -> None:
        rows: dict[str, Counter[str]] = {}
        for key, count in loader.tally.items():
            label, outcome = key.split("|")
            rows.setdefault(label, Counter())[outcome] += count
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo content loaded in {seconds:.1f} s (content {content_seconds:.1f} s, {photos} new photos)."
            )
        )
        for label, counts in rows.items():
            parts = ", ".join(
                f"{counts[o]} {o}" for o in ("created", "updated", "deleted", "unchanged", "skipped") if counts[o]
            )
            self.stdout.write(f"  {label:<20} {parts}")
        for note in loader.notes:
            self.stdout.write(self.style.WARNING(note))
        base_url = loader.base_url
        admin_url = f"{base_url}{settings.ADMIN_URL.lstrip('/')}"
        leader_coop = next(coop for coop in content.COOPERATIVES if coop["slug"] == "quillabamba-cacao-producers")
        self.stdout.write("")
        self.stdout.write(self.style.WARNING("Demo logins (LOCAL DEMO ONLY: the password is public):"))
        self.stdout.write(f"  Site:      {base_url}   (Spanish: {base_url}es/)")
        self.stdout.write(f"  Admin:     {admin_url}")
        self.stdout.write(f"  Portal:    {base_url}es/portal/   (cooperative leaders, Spanish first)")
        self.stdout.write(f"  Staff:     {content.STAFF_EMAIL}  (staff: Operations + Finance groups)")
        self.stdout.write(f"  Owner:     {content.OWNER_EMAIL}  (the only superuser)")
        self.stdout.write(f"  Leader:    {content.LEADER_EMAIL}  (leader of {leader_coop['name'].en})")
        self.stdout.write(f"  Traveller: {content.TRAVELLER_EMAIL}")
        self.stdout.write(f"  Password:  {content.DEMO_PASSWORD}  (all four)")
        self.stdout.write("  (`make run` starts the server next; by hand: .venv/bin/python manage.py runserver)")
