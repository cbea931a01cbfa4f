"""Reads for travellers' bookings. Every lookup is scoped to its owner: another user's
reference is a 404, never a 403 that would confirm it exists."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from tours.models import ItineraryStop
from tours.selectors import departure_queryset_with_availability

from .models import Booking, Participant, Payment


def booking_list_for_user(*, user) -> QuerySet[Booking]:
    return Booking.objects.filter(user=user).select_related("departure__tour__route").order_by("-created_at")


def booking_get_for_user(*, user, reference: str) -> Booking:
    if not user.is_authenticated:
        raise Http404("No such booking")
    booking = (
        Booking.objects.filter(user=user, reference=reference.upper())
        .select_related("departure__tour__route", "hold")
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.order_by("id")),
            Prefetch("payments", queryset=Payment.objects.order_by("-created_at")),
            Prefetch(
                "departure__tour__stops",
                queryset=ItineraryStop.objects.select_related("farm", "farm__cooperative").order_by("day", "order"),
            ),
        )
        .first()
    )
    if booking is None:
        raise Http404("No such booking")
    return booking


def payment_get_by_session(*, session_id: str) -> Payment:
    payment = Payment.objects.select_related("booking__departure__tour").filter(checkout_session_id=session_id).first()
    if payment is None:
        raise Http404("No such checkout session")
    return payment


def departure_get_for_booking(*, departure_id: int):
    departure = departure_queryset_with_availability().select_related("tour__route").filter(pk=departure_id).first()
    if departure is None or not departure.tour.is_published:
        raise Http404("No such departure")
    return departure
