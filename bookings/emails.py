"""Traveller e-mails (HTML + text, in the booking's language) and the .ics calendar file."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

from tours.selectors import itinerary_days, money_breakdown, share_rule_list

from .models import Booking


def _ics_escape(text: str) -> str:
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 line folding at 75 octets."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def booking_ics(booking: Booking) -> str:
    """An iCalendar event for the departure (UTC times, stable UID per booking)."""
    departure = booking.departure
    tour = departure.tour
    start = departure.starts_at.astimezone(UTC)
    hours = tour.duration_hours or 8
    end = start + (timedelta(days=tour.duration_days) if tour.duration_days > 1 else timedelta(hours=hours))
    stamp = timezone.now().astimezone(UTC)
    fmt = "%Y%m%dT%H%M%SZ"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Kallpa Travel//Cacao Routes//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{booking.reference}@kallpa-cacao-routes",
        f"DTSTAMP:{stamp.strftime(fmt)}",
        f"DTSTART:{start.strftime(fmt)}",
        f"DTEND:{end.strftime(fmt)}",
        f"SUMMARY:{_ics_escape(f'{tour.title} ({booking.reference})')}",
        f"LOCATION:{_ics_escape(tour.meeting_point)}",
        f"DESCRIPTION:{_ics_escape(tour.summary)}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _send(*, booking: Booking, template: str, attach_ics: bool) -> None:
    language = booking.language if booking.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language):
        tour = booking.departure.tour
        rules = share_rule_list(tour=tour)
        context = {
            "booking": booking,
            "tour": tour,
            "departure": booking.departure,
            "days": itinerary_days(tour),
            "breakdown": money_breakdown(rules=rules, total=booking.total),
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string(f"bookings/email/{template}_subject.txt", context).strip()
        text = render_to_string(f"bookings/email/{template}.txt", context)
        html = render_to_string(f"bookings/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [booking.contact_email])
    message.attach_alternative(html, "text/html")
    if attach_ics:
        message.attach(f"{booking.reference}.ics", booking_ics(booking), "text/calendar; method=PUBLISH")
    message.send()


def booking_confirmation_email(booking: Booking) -> None:
    _send(booking=booking, template="confirmation", attach_ics=True)


def booking_reminder_email(booking: Booking) -> None:
    _send(booking=booking, template="reminder", attach_ics=True)


def booking_cancellation_email(booking: Booking) -> None:
    _send(booking=booking, template="cancellation", attach_ics=False)


def booking_departure_cancelled_email(booking: Booking) -> None:
    """Kallpa cancelled the departure: the booking is cancelled and refunded in full."""
    _send(booking=booking, template="departure_cancelled", attach_ics=False)


def booking_late_payment_email(booking: Booking) -> None:
    _send(booking=booking, template="late_payment", attach_ics=False)
