"""Routes, tours, day-by-day itineraries, departures and revenue-share rules."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import Photo, TimeStamped, exactly_one_of
from cacaotours.core.money import CURRENCY_CHOICES, Money


class Route(TimeStamped):
    name = models.CharField(_("name"), max_length=160)
    slug = models.SlugField(_("slug"), max_length=160, unique=True)
    region = models.CharField(_("region"), max_length=160)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_published = models.BooleanField(_("published"), default=True)

    class Meta:
        ordering = ("order", "name")
        verbose_name = _("route")
        verbose_name_plural = _("routes")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("tours:route_detail", kwargs={"slug": self.slug})


class RoutePhoto(Photo):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="photos", verbose_name=_("route"))

    class Meta(Photo.Meta):
        verbose_name = _("route photo")
        verbose_name_plural = _("route photos")

    def __str__(self):
        return self.alt_text


class Tour(TimeStamped):
    class Difficulty(models.TextChoices):
        EASY = "easy", _("Easy")
        MODERATE = "moderate", _("Moderate")
        CHALLENGING = "challenging", _("Challenging")

    route = models.ForeignKey(Route, on_delete=models.PROTECT, related_name="tours", verbose_name=_("route"))
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.CharField(_("summary"), max_length=300)
    description = models.TextField(_("description"))
    duration_days = models.PositiveSmallIntegerField(_("duration (days)"), default=1)
    duration_hours = models.PositiveSmallIntegerField(
        _("duration (hours)"), null=True, blank=True, help_text=_("For day tours.")
    )
    difficulty = models.CharField(_("difficulty"), max_length=20, choices=Difficulty.choices, default=Difficulty.EASY)
    languages = models.CharField(
        _("guide languages"), max_length=60, default="es,en", help_text=_("Comma-separated codes: es, en, qu.")
    )
    meeting_point = models.CharField(_("meeting point"), max_length=300)
    includes = models.TextField(_("includes"), blank=True, help_text=_("One item per line."))
    excludes = models.TextField(_("excludes"), blank=True, help_text=_("One item per line."))
    what_to_bring = models.TextField(_("what to bring"), blank=True, help_text=_("One item per line."))
    min_group = models.PositiveSmallIntegerField(_("minimum group"), default=1)
    max_group = models.PositiveSmallIntegerField(_("maximum group"), default=12)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="PEN")
    adult_price = models.PositiveIntegerField(
        _("adult price (minor units)"), help_text=_("In céntimos/cents: 12000 = 120.00.")
    )
    child_price = models.PositiveIntegerField(
        _("child price (minor units)"), null=True, blank=True, help_text=_("Empty: children are not accepted.")
    )
    full_refund_days = models.PositiveSmallIntegerField(_("full refund up to (days before)"), default=14)
    partial_refund_days = models.PositiveSmallIntegerField(_("partial refund up to (days before)"), default=7)
    partial_refund_percent = models.PositiveSmallIntegerField(
        _("partial refund (%)"), default=50, validators=[MaxValueValidator(100)]
    )
    is_published = models.BooleanField(_("published"), default=False)
    is_featured = models.BooleanField(_("featured on the home page"), default=False)

    class Meta:
        ordering = ("route__order", "title")
        verbose_name = _("tour")
        verbose_name_plural = _("tours")
        constraints = [
            models.CheckConstraint(condition=Q(min_group__gte=1), name="tour_min_group_positive"),
            models.CheckConstraint(
                condition=Q(max_group__gte=F("min_group")),
                name="tour_max_ge_min_group",
                violation_error_message=_("The maximum group must be at least the minimum."),
            ),
            models.CheckConstraint(condition=Q(adult_price__gt=0), name="tour_adult_price_positive"),
            models.CheckConstraint(condition=Q(duration_days__gte=1), name="tour_duration_positive"),
            models.CheckConstraint(condition=Q(partial_refund_percent__lte=100), name="tour_partial_refund_le_100"),
            models.CheckConstraint(
                condition=Q(partial_refund_days__lte=F("full_refund_days")),
                name="tour_refund_windows_ordered",
                violation_error_message=_("The partial-refund window must end before the full-refund window."),
            ),
        ]
        indexes = [models.Index(fields=["is_published", "route"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("tours:tour_detail", kwargs={"slug": self.slug})

    @property
    def adult(self) -> Money:
        return Money(self.adult_price, self.currency)

    @property
    def child(self) -> Money | None:
        return None if self.child_price is None else Money(self.child_price, self.currency)

    @property
    def language_codes(self) -> list[str]:
        return [code.strip() for code in self.languages.split(",") if code.strip()]

    @staticmethod
    def _lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def includes_list(self):
        return self._lines(self.includes)

    @property
    def excludes_list(self):
        return self._lines(self.excludes)

    @property
    def what_to_bring_list(self):
        return self._lines(self.what_to_bring)


class TourPhoto(Photo):
    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="photos", verbose_name=_("tour"))

    class Meta(Photo.Meta):
        verbose_name = _("tour photo")
        verbose_name_plural = _("tour photos")

    def __str__(self):
        return self.alt_text


class ItineraryStop(models.Model):
    class Activity(models.TextChoices):
        HARVEST = "harvest", _("Harvest")
        FERMENTATION = "fermentation", _("Fermentation")
        DRYING = "drying", _("Drying")
        ROASTING = "roasting", _("Roasting")
        TASTING = "tasting", _("Tasting")
        WORKSHOP = "workshop", _("Chocolate workshop")
        LODGE = "lodge", _("Eco-lodge night")
        WALK = "walk", _("Forest walk")
        TRAVEL = "travel", _("Travel")
        MEAL = "meal", _("Meal")

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="stops", verbose_name=_("tour"))
    day = models.PositiveSmallIntegerField(_("day"), validators=[MinValueValidator(1)])
    order = models.PositiveSmallIntegerField(_("order"), validators=[MinValueValidator(1)])
    time = models.TimeField(_("time"), null=True, blank=True)
    farm = models.ForeignKey(
        "farms.Farm", on_delete=models.PROTECT, related_name="stops", null=True, blank=True, verbose_name=_("farm")
    )
    activity = models.CharField(_("activity"), max_length=20, choices=Activity.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("tour", "day", "order")
        verbose_name = _("itinerary stop")
        verbose_name_plural = _("itinerary stops")
        constraints = [
            models.UniqueConstraint(
                fields=["tour", "day", "order"],
                name="stop_unique_order_per_day",
                violation_error_message=_("Two stops of the same day cannot have the same order."),
            ),
            models.CheckConstraint(condition=Q(day__gte=1), name="stop_day_positive"),
            models.CheckConstraint(condition=Q(order__gte=1), name="stop_order_positive"),
        ]

    def __str__(self):
        return _("Day %(day)s · %(order)s. %(title)s") % {"day": self.day, "order": self.order, "title": self.title}


class DepartureSchedule(TimeStamped):
    """A recurring timetable of a tour: the departures it generates are ordinary ``Departure`` rows.

    ``weekdays`` holds ISO weekday numbers (1 = Monday … 7 = Sunday), comma-separated ("1,3,5");
    ``start_time`` is Lima local time. ``tours.services.departures_generate`` writes the departures.
    """

    WEEKDAY_CHOICES = (
        ("1", _("Monday")),
        ("2", _("Tuesday")),
        ("3", _("Wednesday")),
        ("4", _("Thursday")),
        ("5", _("Friday")),
        ("6", _("Saturday")),
        ("7", _("Sunday")),
    )

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="schedules", verbose_name=_("tour"))
    weekdays = models.CharField(_("weekdays"), max_length=13)
    start_time = models.TimeField(_("start time (Lima)"))
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    capacity = models.PositiveSmallIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    guide = models.CharField(_("guide"), max_length=120, blank=True)

    class Meta:
        ordering = ("tour", "starts_on", "start_time", "id")
        verbose_name = _("departure schedule")
        verbose_name_plural = _("departure schedules")
        permissions = [("generate_departures", _("Can generate departures from a schedule"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")),
                name="schedule_ends_after_start",
                violation_error_message=_("The last day of a schedule cannot be before its first day."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gt=0),
                name="schedule_capacity_positive",
                violation_error_message=_("Capacity must be at least 1."),
            ),
            models.CheckConstraint(
                condition=~Q(weekdays=""),
                name="schedule_has_weekdays",
                violation_error_message=_("Choose at least one weekday."),
            ),
        ]

    def __str__(self):
        return _("%(tour)s · %(days)s at %(time)s") % {
            "tour": self.tour,
            "days": self.weekdays_display,
            "time": self.start_time.strftime("%H:%M") if self.start_time else "",
        }

    @property
    def weekday_numbers(self) -> list[int]:
        """The ISO weekday numbers, sorted (1 = Monday)."""
        return sorted({int(part) for part in self.weekdays.split(",") if part.strip().isdigit()})

    @property
    def weekdays_display(self) -> str:
        from django.utils.dates import WEEKDAYS_ABBR

        return ", ".join(str(WEEKDAYS_ABBR[number - 1]) for number in self.weekday_numbers if 1 <= number <= 7)


class ScheduleException(models.Model):
    """A date on which a schedule does not run (a holiday, a festival, a road closure)."""

    schedule = models.ForeignKey(
        DepartureSchedule, on_delete=models.CASCADE, related_name="exceptions", verbose_name=_("schedule")
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ("schedule", "date")
        verbose_name = _("date skipped")
        verbose_name_plural = _("dates skipped")
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "date"],
                name="schedule_exception_unique_date",
                violation_error_message=_("This date is already skipped."),
            )
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.reason}".strip()


class Departure(TimeStamped):
    class Status(models.TextChoices):
        OPEN = "open", _("Open for booking")
        CLOSED = "closed", _("Sales closed")
        CANCELLED = "cancelled", _("Cancelled")

    tour = models.ForeignKey(Tour, on_delete=models.PROTECT, related_name="departures", verbose_name=_("tour"))
    starts_at = models.DateTimeField(_("starts at"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    guide = models.CharField(_("guide"), max_length=120, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    schedule = models.ForeignKey(
        DepartureSchedule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="departures",
        verbose_name=_("schedule"),
        help_text=_("The schedule that generated this departure, if any."),
    )

    class Meta:
        ordering = ("starts_at", "id")
        verbose_name = _("departure")
        verbose_name_plural = _("departures")
        permissions = [
            ("cancel_departure", _("Can cancel a departure with its bookings (full refunds)")),
            ("view_manifest", _("Can view, print and export departure manifests")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gt=0),
                name="departure_capacity_positive",
                violation_error_message=_("Capacity must be at least 1."),
            ),
            models.UniqueConstraint(fields=["tour", "starts_at"], name="departure_unique_tour_start"),
        ]
        indexes = [models.Index(fields=["tour", "status", "starts_at"])]

    def __str__(self):
        from django.utils import timezone
        from django.utils.formats import date_format

        local = timezone.localtime(self.starts_at)
        return f"{self.tour} · {date_format(local, 'D j M Y, H:i')}"


class ShareRule(models.Model):
    """Part of every payment for a tour that goes to a community recipient, in basis points.

    Exactly one recipient: a cooperative, a community fund or a host farm. The rules of
    a tour add up to at most 10,000 basis points (100%); the operator keeps the rest.
    """

    tour = models.ForeignKey(Tour, on_delete=models.CASCADE, related_name="share_rules", verbose_name=_("tour"))
    cooperative = models.ForeignKey(
        "cooperatives.Cooperative",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="share_rules",
        verbose_name=_("cooperative"),
    )
    fund = models.ForeignKey(
        "cooperatives.CommunityFund",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="share_rules",
        verbose_name=_("community fund"),
    )
    farm = models.ForeignKey(
        "farms.Farm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="share_rules",
        verbose_name=_("host farm"),
    )
    basis_points = models.PositiveSmallIntegerField(
        _("share (basis points)"),
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text=_("1 basis point = 0.01%; 1500 = 15%."),
    )
    purpose = models.CharField(_("what it pays for"), max_length=200, blank=True)

    class Meta:
        ordering = ("tour", "-basis_points", "id")
        verbose_name = _("share rule")
        verbose_name_plural = _("share rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(basis_points__gte=1, basis_points__lte=10_000),
                name="share_rule_basis_points_range",
                violation_error_message=_("A share is between 1 and 10,000 basis points."),
            ),
            models.CheckConstraint(
                condition=exactly_one_of("cooperative", "fund", "farm"),
                name="share_rule_exactly_one_recipient",
                violation_error_message=_("Choose exactly one recipient: a cooperative, a fund or a farm."),
            ),
            models.UniqueConstraint(
                fields=["tour", "cooperative"],
                condition=Q(cooperative__isnull=False),
                name="share_rule_unique_cooperative",
            ),
            models.UniqueConstraint(
                fields=["tour", "fund"], condition=Q(fund__isnull=False), name="share_rule_unique_fund"
            ),
            models.UniqueConstraint(
                fields=["tour", "farm"], condition=Q(farm__isnull=False), name="share_rule_unique_farm"
            ),
        ]

    def __str__(self):
        return f"{self.recipient} · {self.percent_display}"

    @property
    def recipient(self):
        return self.cooperative or self.fund or self.farm

    @property
    def recipient_kind(self) -> str:
        if self.cooperative_id:
            return "cooperative"
        return "fund" if self.fund_id else "farm"

    @property
    def percent_display(self) -> str:
        whole, frac = divmod(self.basis_points, 100)
        return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


class SeatHold(models.Model):
    """Seats of a departure taken by one booking.

    A hold is *active* while it is not released and either has no expiry (the booking is
    paid) or its expiry is in the future. Availability counts active holds only, so an
    expired hold frees its seats at once; a periodic task also marks them released.
    Holds are created and changed only by ``tours.services`` (which lock the departure).
    """

    departure = models.ForeignKey(
        Departure, on_delete=models.PROTECT, related_name="holds", verbose_name=_("departure")
    )
    units = models.PositiveSmallIntegerField(_("seats"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("seat hold")
        verbose_name_plural = _("seat holds")
        constraints = [models.CheckConstraint(condition=Q(units__gt=0), name="seat_hold_units_positive")]
        indexes = [
            models.Index(fields=["departure"], condition=Q(released_at__isnull=True), name="seat_hold_unreleased"),
        ]

    def __str__(self):
        return f"{self.units} × {self.departure_id}"
