"""The operations dashboard: one staff page under the admin (``<ADMIN_URL>operations/``).

Thin: it picks the sections the user may see, calls ``operations_selectors.operations_dashboard``
(a constant number of queries) and adds, for every figure, the link to the admin list it counts.
It lives in ``cooperatives`` because it reads the ledger too (nothing below imports it).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cacaotours.core.periods import week_bounds

from .operations_selectors import operations_dashboard

SECTION_PERMISSIONS = {
    "departures": ("tours.view_departure", "bookings.view_booking"),
    "bookings": ("bookings.view_booking",),
    "shares": ("cooperatives.view_share",),
}


def admin_list(name: str, **params) -> str:
    """The URL of an admin changelist (``bookings_booking``) filtered by ``params``."""
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def _links(board) -> dict:
    now = timezone.localtime(board.now)
    week_start, week_end = week_bounds(board.now)
    month = timezone.localtime(board.month_start)
    return {
        "departures_today": admin_list(
            "tours_departure", starts_at__day=now.day, starts_at__month=now.month, starts_at__year=now.year
        ),
        "departures_week": admin_list(
            "tours_departure", starts_at__gte=week_start.isoformat(), starts_at__lt=week_end.isoformat()
        ),
        "bookings_today": admin_list("bookings_booking", departs="today"),
        "bookings_week": admin_list("bookings_booking", departs="week"),
        "bookings_month": admin_list("bookings_booking", confirmed="month"),
        "holds_active": admin_list("bookings_booking", hold="active"),
        "holds_expiring": admin_list("bookings_booking", hold="expiring"),
        "flagged": admin_list("bookings_booking", flagged__exact=1),
        "transfers_month": admin_list(
            "cooperatives_journalentry",
            kind__exact="transfer",
            posted_at__month=month.month,
            posted_at__year=month.year,
        ),
        "bank_month": admin_list(
            "cooperatives_journalentry",
            kind__exact="bank_payout",
            posted_at__month=month.month,
            posted_at__year=month.year,
        ),
        "transfer_queue": admin_list("cooperatives_share", queue="all"),
        "payout_batches": admin_list("cooperatives_payoutbatch"),
    }


def operations_dashboard_view(request):
    user = request.user
    sections = {name for name, perms in SECTION_PERMISSIONS.items() if user.has_perms(perms)}
    if not sections:
        raise PermissionDenied
    board = operations_dashboard(sections=sections)
    departure_rows = [
        (
            row,
            reverse("admin:tours_departure_change", args=[row.departure.pk]),
            admin_list("bookings_booking", departure__id__exact=row.departure.pk),
        )
        for row in (*board.departures_today, *board.departures_week)
    ]
    context = {
        **admin.site.each_context(request),
        "title": _("Operations dashboard"),
        "board": board,
        "sections": sections,
        "links": _links(board),
        "departures_today": departure_rows[: len(board.departures_today)],
        "departures_week": departure_rows[len(board.departures_today) :],
        "routes_month": [
            (
                row,
                admin_list(
                    "bookings_booking",
                    confirmed="month",
                    departure__tour__route__id__exact=row.route_id,
                    currency__exact=row.currency,
                ),
            )
            for row in board.routes_month
        ],
        "shares": [
            (
                row,
                {
                    "waiting": admin_list("cooperatives_share", payout="waiting", currency__exact=row.currency),
                    "batched": admin_list("cooperatives_share", payout="batched", currency__exact=row.currency),
                    "pending": admin_list("cooperatives_share", status__exact="pending", currency__exact=row.currency),
                },
            )
            for row in board.shares
        ],
    }
    return TemplateResponse(request, "admin/operations_dashboard.html", context)
