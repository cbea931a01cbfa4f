"""The cooperative leaders' portal: thin views over ``portal_selectors`` and ``portal_services``.

Every page of an organisation goes through ``organisation_view``: Spanish first (see
``spanish_first``), then sign-in, then ``portal_selectors.organisation_for_member`` (a 404 for
anybody who is not a member — staff included).
"""

from __future__ import annotations

import csv
import io
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bookings import gateway
from cacaotours.core.models import PayoutMethod

from . import portal_selectors as selectors
from . import portal_services as services
from .forms import EntryFilterForm, PayoutChangeRequestForm, StatementMonthForm
from .services import csv_safe

PER_PAGE = 25
PORTAL_LANGUAGE_SESSION_KEY = "portal_language"


# -- language, sign-in, membership -----------------------------------------------------------------


def _portal_prefixes() -> tuple[str, ...]:
    prefixes = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            prefixes.append(reverse("portal:index"))
    return tuple(prefixes)


def _from_portal(request) -> bool:
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return False
    parts = urlsplit(referer)
    return parts.netloc == request.get_host() and parts.path.startswith(_portal_prefixes())


def _chose_english(request) -> bool:
    """Rules 1 and 2 of ``spanish_first``: the profile or this visit chose English for the portal."""
    user = request.user
    if user.is_authenticated and getattr(user, "preferred_language", "") == "en":
        return True
    session = getattr(request, "session", None)
    return session is not None and session.get(PORTAL_LANGUAGE_SESSION_KEY) == "en"


def portal_landing_url(request, url: str) -> str:
    """``url`` (a portal page) in the language ``spanish_first`` would open it in, for someone
    arriving from outside the portal (signing in): no redirect on the way, and the sign-in
    message is written in the language of the page that shows it."""
    if translation.get_language() == "en" and not _chose_english(request):
        return translate_url(url, "es")
    return url


def spanish_first(request):
    """Spanish first: an English portal URL reached from outside the portal redirects to Spanish.

    English lives at ``/portal/…`` and Spanish at ``/es/portal/…`` (``i18n_patterns``). Leaders
    arrive from e-mails, bookmarks or the site's header and should land in Spanish, yet English
    must stay one click away through the site's ordinary language switcher (a plain link to the
    same path without ``/es/``). For a GET or HEAD of an English portal URL:

    1. a signed-in user whose ``preferred_language`` is ``"en"`` stays in English;
    2. a session that remembers choosing English in the portal stays in English;
    3. a request whose Referer is a portal page of this site (the switcher on a Spanish portal
       page, or any link inside the English portal) stays in English, and the session remembers
       the choice, so the header's "Portal" link keeps English for the rest of the visit;
    4. anything else is redirected (302) to the same page and query under ``/es/``.

    Opening a Spanish portal page forgets the remembered choice (that is switching back). A
    browser that sends no Referer reaches English through the profile's preferred language.
    Returns the redirect, or None.
    """
    language = translation.get_language()
    session = getattr(request, "session", None)
    if language != "en":
        if session is not None and session.get(PORTAL_LANGUAGE_SESSION_KEY):
            del session[PORTAL_LANGUAGE_SESSION_KEY]
        return None
    if request.method not in ("GET", "HEAD"):
        return None
    if _chose_english(request):
        return None
    if _from_portal(request):
        if session is not None:
            session[PORTAL_LANGUAGE_SESSION_KEY] = "en"
        return None
    return redirect(translate_url(request.get_full_path(), "es"))


def portal_view(view):
    """Spanish first, then sign-in (anonymous visitors go to the sign-in page and come back)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = spanish_first(request)
        if response is not None:
            return response
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def organisation_view(view):
    """A page of one organisation: ``view(request, organisation, **rest)``; 404 for non-members."""

    @portal_view
    @wraps(view)
    def wrapper(request, kind: str, pk: int, **kwargs):
        organisation = selectors.organisation_for_member(request.user, kind, pk)
        return view(request, organisation, **kwargs)

    return wrapper


def _render(request, template: str, organisation, tab: str, context: dict, status: int = 200):
    base = {
        "organisation": organisation,
        "kind": organisation.portal_kind,
        "memberships": selectors.memberships_for_user(request.user),
        "tab": tab,
        "today": selectors.lima_today(),
    }
    return render(request, template, base | context, status=status)


class _Pager:
    """A page of ``queryset`` (25 rows) and the links to its neighbours, keeping the other parameters."""

    def __init__(self, request, queryset, param: str = "pagina"):
        self.page = Paginator(queryset, PER_PAGE).get_page(request.GET.get(param))
        self.previous_url = (
            self._url(request, param, self.page.previous_page_number) if self.page.has_previous() else ""
        )
        self.next_url = self._url(request, param, self.page.next_page_number) if self.page.has_next() else ""

    @staticmethod
    def _url(request, param, number) -> str:
        query = request.GET.copy()
        query[param] = number()
        return f"?{query.urlencode()}"


# -- entry pages ----------------------------------------------------------------------------------


@portal_view
@require_http_methods(["GET", "HEAD"])
def index(request):
    """The organisations of the signed-in person: straight in when there is one."""
    memberships = selectors.memberships_for_user(request.user)
    if len(memberships) == 1:
        organisation = memberships[0].cooperative or memberships[0].fund
        return redirect(selectors.organisation_url("dashboard", organisation))
    return render(request, "cooperatives/portal/index.html", {"memberships": memberships})


@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request, token: str):
    """An invitation link: explain and offer sign-in to visitors; accept (POST) when signed in."""
    response = spanish_first(request)
    if response is not None:
        return response
    found = selectors.invitation_for_token(token)
    problem = services.invitation_problem(found)
    context = {"invitation": found, "problem": problem, "organisation": found.organisation if found else None}
    if problem:
        return render(request, "cooperatives/portal/invitation.html", context, status=410 if found else 404)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except services.PortalError as exc:
            messages.error(request, str(exc))
            return render(request, "cooperatives/portal/invitation.html", context | {"refused": str(exc)}, status=409)
        organisation = membership.cooperative or membership.fund
        messages.success(
            request,
            _("Welcome! You can now see %(organisation)s in the portal.") % {"organisation": organisation},
        )
        kind = "c" if membership.cooperative_id else "f"
        return redirect("portal:dashboard", kind=kind, pk=organisation.pk)
    if request.user.is_authenticated:
        context["email_matches"] = services.invitation_email_matches(user=request.user, email=found.email)
    else:
        query = urlencode({"next": request.get_full_path()})
        context["login_url"] = f"{reverse('account_login')}?{query}"
        context["signup_url"] = f"{reverse('account_signup')}?{query}"
    return render(request, "cooperatives/portal/invitation.html", context)


# -- the organisation's pages --------------------------------------------------------------------


@organisation_view
@require_http_methods(["GET", "HEAD"])
def dashboard(request, organisation):
    data = selectors.dashboard(organisation)
    return _render(request, "cooperatives/portal/dashboard.html", organisation, "dashboard", {"data": data})


@organisation_view
@require_http_methods(["GET", "HEAD"])
def entries(request, organisation):
    tours = selectors.tour_choices(organisation)
    form = EntryFilterForm(request.GET or None, tours=tours)
    page = rows = None
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400  # the list is not shown: an unfiltered list must not pass for a filtered one
    else:
        data = form.cleaned_data if form.is_bound else {}
        queryset = selectors.share_entries(
            organisation,
            since=data.get("desde"),
            until=data.get("hasta"),
            tour_id=data.get("tour"),
            status=data.get("estado") or "",
        )
        page = _Pager(request, queryset)
        rows = selectors.share_entry_rows(page.page.object_list)
    return _render(
        request,
        "cooperatives/portal/entries.html",
        organisation,
        "entries",
        {"form": form, "page": page, "rows": rows},
        status=status,
    )


@organisation_view
@require_http_methods(["GET", "HEAD"])
def visits(request, organisation):
    page = _Pager(request, selectors.upcoming_visits(organisation))
    rows = selectors.visit_rows(organisation, page.page.object_list)
    return _render(request, "cooperatives/portal/visits.html", organisation, "visits", {"page": page, "rows": rows})


@organisation_view
@require_http_methods(["GET", "HEAD"])
def payouts(request, organisation):
    transfers = _Pager(request, selectors.stripe_transfers(organisation), "transferencias")
    lines = _Pager(request, selectors.bank_payout_lines(organisation), "banco")
    return _render(
        request,
        "cooperatives/portal/payouts.html",
        organisation,
        "payouts",
        {
            "transfers": transfers,
            "transfer_rows": selectors.transfer_rows(transfers.page.object_list),
            "lines": lines,
            "line_rows": selectors.payout_line_rows(lines.page.object_list),
        },
    )


def _period(period: tuple[int, int]) -> tuple[int, int]:
    year, month = period
    today = selectors.lima_today()
    if (year, month) > (today.year, today.month) or year < 2000:
        raise Http404("No statement for that month")
    return year, month


@organisation_view
@require_http_methods(["GET", "HEAD"])
def statement_current(request, organisation):
    """The statement picker: ``?mes=YYYY-MM`` (an ``<input type="month">``) or this month."""
    form = StatementMonthForm(request.GET or None)
    if form.is_bound and form.is_valid():
        period = form.cleaned_data["mes"]
    else:
        if form.is_bound:
            messages.error(request, _("Choose a month (year and month)."))
        today = selectors.lima_today()
        period = f"{today.year:04d}-{today.month:02d}"
    year, month = (int(part) for part in period.split("-"))
    today = selectors.lima_today()
    if (year, month) > (today.year, today.month):
        messages.info(request, _("That month has not started yet: here is the current month."))
        period = f"{today.year:04d}-{today.month:02d}"
    return redirect(selectors.organisation_url("statement", organisation, period=period))


@organisation_view
@require_http_methods(["GET", "HEAD"])
def statement(request, organisation, period):
    year, month = _period(period)
    data = selectors.statement(organisation, year=year, month=month)
    today = selectors.lima_today()
    previous = (year - 1, 12) if month == 1 else (year, month - 1)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return _render(
        request,
        "cooperatives/portal/statement.html",
        organisation,
        "statement",
        {
            "statement": data,
            "period": f"{year:04d}-{month:02d}",
            "previous": f"{previous[0]:04d}-{previous[1]:02d}" if previous[0] >= 2000 else "",
            "following": f"{following[0]:04d}-{following[1]:02d}" if following <= (today.year, today.month) else "",
            "months": selectors.statement_months(today),
            "month_form": StatementMonthForm(initial={"mes": f"{year:04d}-{month:02d}"}),
        },
    )


@organisation_view
@require_http_methods(["GET", "HEAD"])
def statement_csv(request, organisation, period):
    """The statement's rows as CSV (UTF-8 with BOM for spreadsheets; every cell through ``csv_safe``).

    Credits (in the community's favour) and debits are separate positive columns, so no cell
    is a negative number that ``csv_safe`` would have to quote.
    """
    year, month = _period(period)
    data = selectors.statement(organisation, year=year, month=month)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("date"),
            _("currency"),
            _("booking"),
            _("tour"),
            _("recipient"),
            _("concept"),
            _("description"),
            _("credit"),
            _("debit"),
        ]
    )

    def split(money):
        value = f"{money.to_decimal():.2f}" if money.amount >= 0 else f"{(-money).to_decimal():.2f}"
        return (value, "") if money.amount >= 0 else ("", value)

    for currency in data.currencies:
        first_day = date_format(data.first_day, "Y-m-d")
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    first_day,
                    currency.currency,
                    "",
                    "",
                    "",
                    _("Opening balance"),
                    "",
                    *split(currency.money("opening")),
                )
            ]
        )
        for row in currency.rows:
            writer.writerow(
                [
                    csv_safe(v)
                    for v in (
                        date_format(_lima(row.posted_at), "Y-m-d H:i"),
                        currency.currency,
                        row.reference,
                        row.tour,
                        row.recipient.name if row.recipient else "",
                        row.kind_label,
                        row.description,
                        *split(row.amount),
                    )
                ]
            )
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    "",
                    currency.currency,
                    "",
                    "",
                    "",
                    _("Closing balance"),
                    "",
                    *split(currency.money("closing")),
                )
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = slugify(str(organisation)) or "organisation"
    prefix = slugify(_("statement")) or "statement"
    response["Content-Disposition"] = f'attachment; filename="{prefix}-{name}-{year:04d}-{month:02d}.csv"'
    return response


def _lima(moment):
    from django.utils import timezone

    return timezone.localtime(moment, selectors.LIMA)


# -- payout settings ------------------------------------------------------------------------------


def _payout_initial(organisation) -> dict:
    method = organisation.payout_method
    return {
        "payout_method": method if method != PayoutMethod.NONE else PayoutMethod.BANK_TRANSFER,
        "bank_name": organisation.bank_name,
        "bank_account_holder": organisation.bank_account_holder,
        # never the account id or the CCI: the page shows them masked only
    }


@organisation_view
@require_http_methods(["GET", "HEAD", "POST"])
def payout_settings(request, organisation):
    """The payout method on file; leaders and treasurers ask for a change (staff approve it)."""
    requests = selectors.payout_requests(organisation)
    pending = next((r for r in requests if r.status == r.Status.PENDING), None)
    form = PayoutChangeRequestForm(request.POST or None, initial=_payout_initial(organisation))
    status = 200
    if request.method == "POST":
        if not organisation.portal_can_manage:
            messages.error(request, _("Only the leader or the treasurer can ask to change the payout details."))
            status = 403
        elif form.is_valid():
            try:
                services.payout_change_request_create(organisation=organisation, user=request.user, **form.cleaned_data)
            except services.PortalError as exc:
                messages.error(request, str(exc))
                status = 409
            else:
                messages.success(
                    request,
                    _("Your request was sent. Kallpa checks it and tells you by e-mail; until then nothing changes."),
                )
                return redirect(selectors.organisation_url("payout_settings", organisation))
        else:
            status = 400
    stripe_note = request.GET.get("stripe")
    if stripe_note == "listo":
        messages.info(request, _("Back from Stripe. The status below updates when Stripe confirms the account."))
    elif stripe_note == "vencido":
        messages.warning(request, _("The Stripe link expired. Start the onboarding again."))
    return _render(
        request,
        "cooperatives/portal/payout_settings.html",
        organisation,
        "settings",
        {
            "form": form,
            "requests": requests,
            "pending": pending,
            "stripe_enabled": gateway.stripe_enabled(),
            "masked_account": selectors.masked_account(organisation.stripe_account_id),
            "PayoutMethod": PayoutMethod,
        },
        status=status,
    )


@organisation_view
@require_POST
def stripe_onboarding(request, organisation):
    """Start (or continue) Stripe Connect onboarding: a redirect to Stripe's hosted page."""
    back = request.build_absolute_uri(selectors.organisation_url("payout_settings", organisation))
    if not gateway.stripe_enabled():
        messages.info(request, _("Stripe is not set up on this site yet; Kallpa can pay the community by bank."))
        return redirect(back)
    try:
        url = services.portal_onboarding_link(
            organisation=organisation,
            user=request.user,
            refresh_url=f"{back}?stripe=vencido",
            return_url=f"{back}?stripe=listo",
        )
    except services.PortalError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    return redirect(url)
