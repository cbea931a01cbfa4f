"""Bookings, participants, payments, refunds and Stripe events.

Each lifecycle (booking, payment) has one status field, one table of allowed transitions
(``bookings.states``) and one function that moves it and records who, when and why.
Nothing assigns ``status`` directly.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cacaotours.core.models import TimeStamped
from cacaotours.core.money import CURRENCY_CHOICES, Money


class BookingStatus(models.TextChoices):
    HELD = "held", _("Seats held")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Cancelled and refunded")
    EXPIRED = "expired", _("Hold expired")


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class Booking(TimeStamped):
    reference = models.CharField(_("reference"), max_length=12, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("traveller")
    )
    departure = models.ForeignKey(
        "tours.Departure", on_delete=models.PROTECT, related_name="bookings", verbose_name=_("departure")
    )
    hold = models.OneToOneField(
        "tours.SeatHold", on_delete=models.PROTECT, related_name="booking", verbose_name=_("seat hold")
    )
    status = models.CharField(_("status"), max_length=20, choices=BookingStatus.choices, default=BookingStatus.HELD)
    adults = models.PositiveSmallIntegerField(_("adults"))
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    adult_price = models.PositiveIntegerField(_("adult price (minor units)"))
    child_price = models.PositiveIntegerField(_("child price (minor units)"), default=0)
    total_amount = models.PositiveIntegerField(_("total (minor units)"))
    expires_at = models.DateTimeField(_("hold expires at"))
    language = models.CharField(_("language"), max_length=8, default="en")
    contact_name = models.CharField(_("contact name"), max_length=160)
    contact_email = models.EmailField(_("contact e-mail"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=160, blank=True)
    emergency_contact_phone = models.CharField(_("emergency phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    flagged = models.BooleanField(_("needs staff attention"), default=False)
    flag_reason = models.CharField(_("flag reason"), max_length=300, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(_("confirmation sent at"), null=True, blank=True, editable=False)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            models.CheckConstraint(condition=Q(adults__gte=1), name="booking_at_least_one_adult"),
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="booking_total_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]
        # Staff operations (bookings.services, checked by the booking admin); cacaotours/core/roles.py
        # gives them to the Operations and Finance groups.
        permissions = [
            ("move_booking", _("Can move a booking to another departure")),
            ("refund_booking", _("Can refund part of a booking's payment")),
            ("resolve_flag", _("Can resolve a booking's flag")),
            ("resend_confirmation", _("Can resend a booking's confirmation e-mail")),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("bookings:detail", kwargs={"reference": self.reference})

    @property
    def units(self) -> int:
        return self.adults + self.children

    @property
    def total(self) -> Money:
        return Money(self.total_amount, self.currency)


class BookingNote(models.Model):
    """Staff's record on a booking: internal notes, resolved flags and moves (who, when, what).

    Written only by ``bookings.services``; never edited or deleted (corrections are new notes).
    """

    class Kind(models.TextChoices):
        NOTE = "note", _("Internal note")
        FLAG_RESOLVED = "flag_resolved", _("Flag resolved")
        MOVED = "moved", _("Moved to another departure")

    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="staff_notes", verbose_name=_("booking")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.NOTE)
    text = models.TextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("staff note")
        verbose_name_plural = _("staff notes")
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="booking_note_not_empty")]

    def __str__(self):
        return f"{self.booking_id} · {self.get_kind_display()}"


class Participant(models.Model):
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="participants", verbose_name=_("booking")
    )
    full_name = models.CharField(_("full name"), max_length=160)
    is_child = models.BooleanField(_("child"), default=False)
    dietary_needs = models.CharField(_("dietary needs / allergies"), max_length=300, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )

    class Meta:
        ordering = ("booking", "id")
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        permissions = [("checkin_participant", _("Can check participants in on the day of the tour"))]

    def __str__(self):
        return self.full_name


class BookingTransition(models.Model):
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("booking")
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=BookingStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=BookingStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("actor")
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("booking transition")
        verbose_name_plural = _("booking transitions")

    def __str__(self):
        return f"{self.booking_id}: {self.from_status} → {self.to_status}"


class Payment(TimeStamped):
    class Provider(models.TextChoices):
        STRIPE = "stripe", _("Stripe Checkout")
        SIMULATED = "simulated", _("Simulated checkout (development)")

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="payments", verbose_name=_("booking"))
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    status = models.CharField(_("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount_received = models.PositiveIntegerField(_("amount received (minor units)"), default=0)
    amount_refunded = models.PositiveIntegerField(_("amount refunded (minor units)"), default=0)
    checkout_session_id = models.CharField(_("Checkout session ID"), max_length=255, unique=True, null=True, blank=True)
    checkout_url = models.URLField(_("Checkout URL"), max_length=2000, blank=True)
    payment_intent_id = models.CharField(_("PaymentIntent ID"), max_length=255, blank=True, db_index=True)
    charge_id = models.CharField(_("charge ID"), max_length=255, blank=True, db_index=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("amount_received")), name="payment_refund_le_received"
            ),
        ]

    def __str__(self):
        return f"{self.booking_id} · {Money(self.amount, self.currency)} · {self.get_status_display()}"


class PaymentTransition(models.Model):
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("payment")
    )
    from_status = models.CharField(_("from status"), max_length=20, choices=PaymentStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, choices=PaymentStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("actor")
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("payment transition")
        verbose_name_plural = _("payment transitions")

    def __str__(self):
        return f"{self.payment_id}: {self.from_status} → {self.to_status}"


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment"))
    amount = models.PositiveIntegerField(_("amount (minor units)"))
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    stripe_refund_id = models.CharField(_("Stripe refund ID"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"{Money(self.amount, self.payment.currency)} · {self.get_status_display()}"


class StripeEvent(models.Model):
    """Every webhook event, once: the unique id makes a duplicate delivery a no-op."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    event_id = models.CharField(_("event ID"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(_("error"), blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ("-received_at",)
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self):
        return f"{self.type} {self.event_id}"
