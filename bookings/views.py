"""Booking flow views: parse input, call one service, render. No logic here."""

import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tours.selectors import itinerary_days, money_breakdown, share_rule_list
from tours.services import SeatsUnavailable

from . import gateway, selectors, services
from .forms import BookingDetailsForm, CancelForm, ParticipantFormSet, UnitsForm
from .models import BookingStatus

logger = logging.getLogger(__name__)


def _error_message(exc: Exception) -> str:
    return str(exc) if str(exc) else _("Something went wrong; nothing was changed.")


@login_required
@require_http_methods(["GET", "POST"])
def departure_book(request, departure_id: int):
    """Step 1: choose travellers; POST holds the seats (the rush-hour path: ≤ 8 queries)."""
    form = UnitsForm(request.POST or None, initial={"departure": departure_id})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.booking_hold_seats(
                departure_id=departure_id,
                adults=form.cleaned_data["adults"],
                children=form.cleaned_data["children"],
                user=request.user,
                language=translation.get_language() or settings.LANGUAGE_CODE,
            )
        except (services.BookingError, SeatsUnavailable) as exc:
            messages.error(request, _error_message(exc))
            status = 409
        else:
            return redirect("bookings:details", reference=booking.reference)
    elif request.method == "POST":
        status = 400
    departure = selectors.departure_get_for_booking(departure_id=departure_id)
    return render(
        request,
        "bookings/departure_book.html",
        {"departure": departure, "tour": departure.tour, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def booking_details(request, reference: str):
    """Step 2: travellers' details while the seats are held; POST goes to the checkout."""
    booking = selectors.booking_get_for_user(user=request.user, reference=reference)
    if booking.status not in (BookingStatus.HELD, BookingStatus.AWAITING_PAYMENT):
        return redirect(booking.get_absolute_url())
    if booking.expires_at <= timezone.now():
        messages.error(request, _("Your hold has expired and the seats were released. Please choose again."))
        return redirect(booking.departure.tour.get_absolute_url())
    existing = [{"full_name": p.full_name, "dietary_needs": p.dietary_needs} for p in booking.participants.all()]
    # The first traveller defaults to the account holder's name (not contact_name: that is the
    # e-mail address when the profile has no name yet).
    initial = existing or [{"full_name": request.user.get_full_name() if i == 0 else ""} for i in range(booking.units)]
    formset = ParticipantFormSet(request.POST or None, initial=initial, prefix="p")
    form = BookingDetailsForm(
        request.POST or None,
        initial={
            "emergency_contact_name": booking.emergency_contact_name,
            "emergency_contact_phone": booking.emergency_contact_phone,
            "language": booking.language,
            "notes": booking.notes,
        },
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        participants = [
            {**f.cleaned_data, "is_child": index >= booking.adults} for index, f in enumerate(formset.forms)
        ]
        try:
            services.booking_details_save(booking=booking, participants=participants, **form.cleaned_data)
            url = services.booking_checkout_start(booking=booking, base_url=request.build_absolute_uri("/")[:-1])
        except services.BookingError as exc:
            messages.error(request, _error_message(exc))
        except stripe.StripeError:
            logger.exception("checkout session for %s failed", booking.reference)
            messages.error(request, _("The payment page could not be opened. Please try again in a moment."))
        else:
            return redirect(url)
    return render(
        request,
        "bookings/booking_details.html",
        {"booking": booking, "tour": booking.departure.tour, "form": form, "formset": formset},
    )


@login_required
@require_GET
def booking_success(request, reference: str):
    booking = selectors.booking_get_for_user(user=request.user, reference=reference)
    return render(request, "bookings/booking_success.html", {"booking": booking})


@login_required
@require_GET
def booking_status(request, reference: str):
    """The success page's self-updating status panel (polled with htmx until final)."""
    booking = selectors.booking_get_for_user(user=request.user, reference=reference)
    return render(request, "bookings/_status.html", {"booking": booking})


@login_required
@require_GET
def booking_list(request):
    bookings = list(selectors.booking_list_for_user(user=request.user))
    now = timezone.now()
    # Upcoming: confirmed, or still held, for a departure that has not left yet (soonest first).
    upcoming = [
        b
        for b in bookings
        if b.departure.starts_at > now
        and (
            b.status == BookingStatus.CONFIRMED
            or (b.status in (BookingStatus.HELD, BookingStatus.AWAITING_PAYMENT) and b.expires_at > now)
        )
    ]
    upcoming.sort(key=lambda b: b.departure.starts_at)
    upcoming_ids = {b.pk for b in upcoming}
    past = [b for b in bookings if b.pk not in upcoming_ids]
    return render(request, "bookings/booking_list.html", {"bookings": bookings, "upcoming": upcoming, "past": past})


def _booking_context(booking):
    tour = booking.departure.tour
    return {
        "booking": booking,
        "tour": tour,
        "days": itinerary_days(tour),
        "breakdown": money_breakdown(rules=share_rule_list(tour=tour), total=booking.total),
    }


@login_required
@require_GET
def booking_detail(request, reference: str):
    booking = selectors.booking_get_for_user(user=request.user, reference=reference)
    context = _booking_context(booking)
    if booking.status == BookingStatus.CONFIRMED:
        context["refund_quote"] = services.booking_refund_quote(booking=booking)
    return render(request, "bookings/booking_detail.html", context)


@login_required
@require_GET
def booking_ics(request, reference: str):
    from .emails import booking_ics as make_ics

    booking = selectors.booking_get_for_user(user=request.user, reference=reference)
    if booking.status != BookingStatus.CONFIRMED:
        return redirect(booking.get_absolute_url())
    response = HttpResponse(make_ics(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{booking.reference}.ics"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def booking_cancel(request, reference: str):
    booking = selectors.booking_get_for_user(user=request.user, reference=reference)
    if booking.status != BookingStatus.CONFIRMED:
        messages.error(
            request,
            _("This booking cannot be cancelled: it is %(status)s.") % {"status": booking.get_status_display().lower()},
        )
        return redirect(booking.get_absolute_url())
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_cancel(
                booking=booking, actor=request.user, reason=form.cleaned_data["reason"] or "cancelled by traveller"
            )
        except services.BookingError as exc:
            messages.error(request, _error_message(exc))
        else:
            messages.success(
                request,
                _("Your booking %(ref)s is cancelled. We have sent you an e-mail.") % {"ref": booking.reference},
            )
            return redirect(booking.get_absolute_url())
    quote = services.booking_refund_quote(booking=booking)
    return render(request, "bookings/booking_cancel.html", {"booking": booking, "quote": quote, "form": form})


@require_http_methods(["GET", "POST"])
def simulated_checkout(request, session_id: str):
    """Development stand-in for Stripe's hosted page (refused when Stripe keys are set)."""
    if not settings.SIMULATED_CHECKOUT:
        return HttpResponse(status=404)
    payment = selectors.payment_get_by_session(session_id=session_id)
    booking = payment.booking
    if not request.user.is_authenticated or booking.user_id != request.user.pk:
        return HttpResponse(status=404)
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        try:
            services.simulated_checkout_complete(payment=payment, outcome=outcome)
        except services.BookingError as exc:
            messages.error(request, _error_message(exc))
            return redirect("bookings:simulated_checkout", session_id=session_id)
        if outcome == "pay":
            return redirect(reverse("bookings:success", kwargs={"reference": booking.reference}))
        if outcome == "decline":
            messages.error(request, _("Your card was declined. No money was taken; you can try again."))
            return redirect("bookings:details", reference=booking.reference)
        messages.info(request, _("You left the payment page. Your seats were released."))
        return redirect(booking.departure.tour.get_absolute_url())
    return render(request, "bookings/simulated_checkout.html", {"payment": payment, "booking": booking})


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Verify, store once, enqueue, answer: the heavy work runs in a Celery task."""
    try:
        event = gateway.webhook_event_construct(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError):
        return HttpResponseBadRequest("invalid signature or payload")
    record, created = services.stripe_event_record(event=event)
    if created:
        from django.db import transaction

        transaction.on_commit(lambda: services.stripe_event_dispatch(event_pk=record.pk), robust=True)
    return HttpResponse(status=200)


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    if request.method == "POST":
        if request.POST.get("confirm_email", "").strip().lower() != request.user.email.lower():
            messages.error(request, _("Type your e-mail address exactly to confirm."))
        else:
            try:
                services.traveller_account_delete(user=request.user)
            except services.BookingError as exc:
                messages.error(request, _error_message(exc))
            else:
                logout(request)
                messages.success(request, _("Your account was deleted and your personal data removed."))
                return redirect("tours:home")
    return render(request, "account/delete.html", {})
