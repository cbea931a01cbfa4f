"""Writes of the cooperative leaders' portal: invitations and payout-detail change requests.

Keyword-only, one transaction each; e-mails leave after commit (``transaction.on_commit``),
so a rolled-back change never tells anybody anything, and a failed e-mail is logged without
undoing the change. Refusals raise ``PortalError`` with a
message for the person (translated), and change nothing.

Invitations
    ``invitation_create`` stores only the SHA-256 of a random token; the link (in the
    invitation's language, Spanish by default) is e-mailed after commit. ``invitation_accept``
    accepts a token once, before it expires, for a signed-in user whose e-mail matches the
    invited address: one of the user's *verified* allauth addresses, or the user's own login
    address when it is still unverified — the token reached that inbox, which is the proof a
    verification e-mail would ask for, so that address is marked verified. Accepting creates
    the membership, or raises an existing member's role (an invitation never lowers one). An
    account created after the invitation was sent takes the invitation's language as its
    preferred language (the model's default is English, and the portal is Spanish first).

Payout change requests
    Leaders and treasurers ask; staff decide in the admin. Approval copies the details onto
    the cooperative or fund in the same transaction as the decision. Requester and staff
    hear about every decision by e-mail.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from email.utils import parseaddr

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cacaotours.core.models import PayoutMethod

from .models import CommunityFund, Cooperative, Invitation, Membership, PayoutChangeRequest
from .portal_selectors import MANAGING_ROLES

logger = logging.getLogger(__name__)
ROLE_RANK = {Membership.Role.VIEWER: 0, Membership.Role.TREASURER: 1, Membership.Role.LEADER: 2}
PORTAL_LANGUAGES = ("es", "en")


class PortalError(Exception):
    """A refused portal action: nothing was changed; ``str(exc)`` is the message for the person."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _org_kwargs(organisation) -> dict:
    if isinstance(organisation, Cooperative):
        return {"cooperative": organisation}
    if isinstance(organisation, CommunityFund):
        return {"fund": organisation}
    raise TypeError(f"not a portal organisation: {organisation!r}")


def _language(value: str | None) -> str:
    return value if value in PORTAL_LANGUAGES else "es"


# -- e-mail ----------------------------------------------------------------------------------------


def _send(*, template: str, context: dict, to: list[str], language: str) -> None:
    """Render ``cooperatives/email/<template>{_subject.txt,.txt,.html}`` in ``language`` and send."""
    if not to:
        return
    with translation.override(language):
        context = {"site_url": settings.SITE_URL.rstrip("/"), **context}
        subject = render_to_string(f"cooperatives/email/{template}_subject.txt", context).strip()
        text = render_to_string(f"cooperatives/email/{template}.txt", context)
        html = render_to_string(f"cooperatives/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    message.send()


def staff_addresses() -> list[str]:
    """Kallpa's inbox (DEFAULT_FROM_EMAIL) and every active staff user with an e-mail address."""
    addresses = [parseaddr(settings.DEFAULT_FROM_EMAIL)[1]]
    addresses += list(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
    )
    unique: list[str] = []
    for address in addresses:
        if address and address.lower() not in {a.lower() for a in unique}:
            unique.append(address)
    return unique


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _admin_url(name: str, *args) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        try:
            return _absolute(reverse(f"admin:{name}", args=args))
        except NoReverseMatch:  # the portal admin is not registered (cooperatives/admin.py imports it)
            logger.warning("admin URL %s is not registered; linking to the admin index", name)
            return _absolute(reverse("admin:index"))


def _after_commit(function, *args) -> None:
    """Run ``function(*args)`` after commit; a failure (SMTP down…) is logged, never undoes the change."""

    def run():
        try:
            function(*args)
        except Exception:
            logger.exception("portal e-mail %s%r failed after commit", function.__name__, args)

    transaction.on_commit(run)


# -- invitations -----------------------------------------------------------------------------------


def invitation_link(*, token: str, language: str) -> str:
    with translation.override(_language(language)):
        return _absolute(reverse("portal:invitation", kwargs={"token": token}))


def _invitation_mail(invitation_id: int, token: str) -> None:
    invitation = Invitation.objects.select_related("cooperative", "fund", "invited_by").get(pk=invitation_id)
    language = _language(invitation.language)
    _send(
        template="invitation",
        context={
            "invitation": invitation,
            "organisation": invitation.organisation,
            "link": invitation_link(token=token, language=language),
            "days": settings.INVITATION_DAYS,
        },
        to=[invitation.email],
        language=language,
    )


def _new_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = token_hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_DAYS)
    invitation.sent_at = timezone.now()
    return token


def invitation_create(
    *,
    email: str,
    role: str,
    cooperative: Cooperative | None = None,
    fund: CommunityFund | None = None,
    invited_by=None,
    language: str = "es",
) -> Invitation:
    """Invite ``email`` to a cooperative or a fund with ``role``; the link is e-mailed after commit.

    The returned invitation carries the plain token and link (``.token``, ``.link``) for the
    caller to show once; only its hash is stored.
    """
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise PortalError(_("Enter the e-mail address of the person to invite."))
    if (cooperative is None) == (fund is None):
        raise PortalError(_("Choose a cooperative or a community fund (one of the two)."))
    if role not in Membership.Role.values:
        raise PortalError(_("Choose a role: leader, treasurer or viewer."))
    with transaction.atomic():
        invitation = Invitation(
            email=email,
            role=role,
            cooperative=cooperative,
            fund=fund,
            invited_by=invited_by,
            language=_language(language),
        )
        token = _new_token(invitation)
        invitation.save()
        _after_commit(_invitation_mail, invitation.pk, token)
    invitation.token = token
    invitation.link = invitation_link(token=token, language=invitation.language)
    return invitation


def invitation_resend(*, invitation_id: int, actor=None) -> Invitation:
    """A fresh link (the old one stops working) and a new expiry, e-mailed after commit."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        if invitation.accepted_at is not None:
            raise PortalError(_("This invitation was already accepted."))
        if invitation.revoked_at is not None:
            raise PortalError(_("This invitation was revoked; create a new one."))
        token = _new_token(invitation)
        invitation.save(update_fields=["token_hash", "expires_at", "sent_at", "updated_at"])
        _after_commit(_invitation_mail, invitation.pk, token)
    invitation.token = token
    invitation.link = invitation_link(token=token, language=invitation.language)
    return invitation


def invitation_revoke(*, invitation_id: int, actor=None) -> Invitation:
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation_id)
        if invitation.accepted_at is not None:
            raise PortalError(_("This invitation was already accepted; remove the membership instead."))
        if invitation.revoked_at is None:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def invitation_problem(invitation: Invitation | None, *, now=None) -> str:
    """Why a link cannot be used (empty when it can): unknown, revoked, used or expired."""
    now = now or timezone.now()
    if invitation is None:
        return _(
            "This invitation link is not valid. Check that you copied the whole link, or ask Kallpa for a new one."
        )
    if invitation.revoked_at is not None:
        return _("This invitation was withdrawn by Kallpa. Ask Kallpa for a new one if you still need access.")
    if invitation.accepted_at is not None:
        return _("This invitation has already been used. If it was you, open the portal; if not, tell Kallpa.")
    if invitation.expires_at <= now:
        return _("This invitation has expired. Ask Kallpa to send you a new one.")
    return ""


def _address_matches(user, email: str) -> tuple[bool, object | None]:
    """(matches, unverified allauth address to mark verified) for the invited ``email``."""
    from allauth.account.models import EmailAddress

    addresses = list(EmailAddress.objects.filter(user=user))
    for address in addresses:
        if address.verified and address.email.lower() == email:
            return True, None
    if (user.email or "").lower() == email:
        unverified = next((a for a in addresses if a.email.lower() == email), None)
        return True, unverified
    return False, None


def invitation_email_matches(*, user, email: str) -> bool:
    """Whether ``user`` may accept an invitation sent to ``email`` (see the module docstring)."""
    return _address_matches(user, (email or "").lower())[0]


def invitation_accept(*, token: str, user) -> Membership:
    """Accept an invitation once: membership created (or role raised), invitation marked accepted."""
    if not getattr(user, "is_authenticated", False):
        raise PortalError(_("Sign in to accept the invitation."))
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("cooperative", "fund")
            .filter(token_hash=token_hash(token or ""))
            .first()
        )
        problem = invitation_problem(invitation)
        if problem:
            raise PortalError(problem)
        matches, unverified = _address_matches(user, invitation.email)
        if not matches:
            raise PortalError(
                _(
                    "This invitation was sent to %(invited)s, but you are signed in as %(current)s. "
                    "Sign out and sign in (or create an account) with %(invited)s, or add and verify that "
                    "address in your account."
                )
                % {"invited": invitation.email, "current": user.email}
            )
        org = _org_kwargs(invitation.organisation)
        membership = Membership.objects.select_for_update().filter(user=user, **org).first()
        if membership is None:
            membership = Membership.objects.create(user=user, role=invitation.role, **org)
        elif ROLE_RANK[invitation.role] > ROLE_RANK[membership.role]:
            membership.role = invitation.role
            membership.save(update_fields=["role", "updated_at"])
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
        if user.date_joined >= invitation.created_at and user.preferred_language != invitation.language:
            # an account opened for this invitation takes its language (the portal is Spanish first)
            user.preferred_language = invitation.language
            user.save(update_fields=["preferred_language"])
        if unverified is not None and not unverified.verified:
            unverified.verified = True
            unverified.save(update_fields=["verified"])
    return membership


# -- payout change requests ------------------------------------------------------------------------


def _clean_request_fields(*, payout_method, stripe_account_id, bank_name, bank_account_holder, bank_cci) -> dict:
    from django.core.exceptions import ValidationError

    from cacaotours.core.models import cci_validator, stripe_account_validator

    stripe_account_id = (stripe_account_id or "").strip()
    bank_name = (bank_name or "").strip()
    bank_account_holder = (bank_account_holder or "").strip()
    bank_cci = "".join((bank_cci or "").split()).replace("-", "")
    if payout_method == PayoutMethod.STRIPE_CONNECT:
        if not stripe_account_id:
            raise PortalError(_("Enter the Stripe connected account id (it starts with acct_)."))
        try:
            stripe_account_validator(stripe_account_id)
        except ValidationError as exc:
            raise PortalError(" ".join(exc.messages)) from exc
        return {
            "payout_method": payout_method,
            "stripe_account_id": stripe_account_id,
            "bank_name": "",
            "bank_account_holder": "",
            "bank_cci": "",
        }
    if payout_method == PayoutMethod.BANK_TRANSFER:
        if not bank_account_holder:
            raise PortalError(_("Enter the account holder's name, exactly as the bank has it."))
        try:
            cci_validator(bank_cci)
        except ValidationError as exc:
            raise PortalError(" ".join(exc.messages)) from exc
        return {
            "payout_method": payout_method,
            "stripe_account_id": "",
            "bank_name": bank_name,
            "bank_account_holder": bank_account_holder,
            "bank_cci": bank_cci,
        }
    raise PortalError(_("Choose how the community wants to be paid."))


def _require_manager(user, organisation) -> Membership:
    membership = Membership.objects.filter(user=user, **_org_kwargs(organisation)).first() if user.pk else None
    if membership is None or membership.role not in MANAGING_ROLES:
        raise PortalError(_("Only the leader or the treasurer can ask to change the payout details."))
    return membership


def _request_mail_context(request: PayoutChangeRequest) -> dict:
    organisation = request.cooperative or request.fund
    return {
        "request": request,
        "organisation": organisation,
        "admin_link": _admin_url("cooperatives_payoutchangerequest_change", request.pk),
        "masked_cci": f"•••• {request.bank_cci[-4:]}" if request.bank_cci else "",
    }


def _portal_link(organisation, language: str, name: str = "payout_settings") -> str:
    kind = "c" if isinstance(organisation, Cooperative) else "f"
    with translation.override(language):
        return _absolute(reverse(f"portal:{name}", kwargs={"kind": kind, "pk": organisation.pk}))


def _notify_staff(template: str, request_id: int) -> None:
    request = PayoutChangeRequest.objects.select_related("cooperative", "fund", "requested_by", "decided_by").get(
        pk=request_id
    )
    _send(template=template, context=_request_mail_context(request), to=staff_addresses(), language="es")


def _notify_requester(request_id: int) -> None:
    request = PayoutChangeRequest.objects.select_related("cooperative", "fund", "requested_by", "decided_by").get(
        pk=request_id
    )
    requester = request.requested_by
    if requester is None or not requester.email:
        return
    language = _language(getattr(requester, "preferred_language", "es"))
    context = _request_mail_context(request) | {
        "portal_link": _portal_link(request.cooperative or request.fund, language),
        "requester": requester,
    }
    _send(template="payout_request_decided", context=context, to=[requester.email], language=language)


def payout_change_request_create(
    *,
    organisation,
    user,
    payout_method: str,
    stripe_account_id: str = "",
    bank_name: str = "",
    bank_account_holder: str = "",
    bank_cci: str = "",
    note: str = "",
) -> PayoutChangeRequest:
    """A leader's or treasurer's request; staff are told after commit. One pending per organisation."""
    _require_manager(user, organisation)
    values = _clean_request_fields(
        payout_method=payout_method,
        stripe_account_id=stripe_account_id,
        bank_name=bank_name,
        bank_account_holder=bank_account_holder,
        bank_cci=bank_cci,
    )
    org = _org_kwargs(organisation)
    pending = _(
        "A change request is already waiting for Kallpa's decision. You can send a new one after it is decided."
    )
    if PayoutChangeRequest.objects.filter(status=PayoutChangeRequest.Status.PENDING, **org).exists():
        raise PortalError(pending)
    try:
        with transaction.atomic():
            request = PayoutChangeRequest.objects.create(
                requested_by=user, note=(note or "").strip()[:300], **org, **values
            )
            _after_commit(_notify_staff, "payout_request_new", request.pk)
    except IntegrityError as exc:  # a request sent at the same moment won the unique constraint
        raise PortalError(pending) from exc
    return request


def _decide(*, request_id: int, actor, note: str, approve: bool) -> PayoutChangeRequest:
    with transaction.atomic():
        request = (
            PayoutChangeRequest.objects.select_for_update(of=("self",))
            .select_related("cooperative", "fund")
            .get(pk=request_id)
        )
        if request.status != PayoutChangeRequest.Status.PENDING:
            raise PortalError(
                _("This request was already decided (%(status)s).") % {"status": request.get_status_display()}
            )
        if approve:
            organisation = request.cooperative or request.fund
            model = type(organisation)
            organisation = model.objects.select_for_update().get(pk=organisation.pk)
            values = _clean_request_fields(
                payout_method=request.payout_method,
                stripe_account_id=request.stripe_account_id,
                bank_name=request.bank_name,
                bank_account_holder=request.bank_account_holder,
                bank_cci=request.bank_cci,
            )
            if values["stripe_account_id"] != organisation.stripe_account_id:
                values["stripe_transfers_enabled"] = False  # until Stripe's account.updated says so
            for name, value in values.items():
                setattr(organisation, name, value)
            organisation.save(update_fields=[*values, "updated_at"])
        request.status = PayoutChangeRequest.Status.APPROVED if approve else PayoutChangeRequest.Status.REJECTED
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.decision_note = (note or request.decision_note or "").strip()[:300]
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "updated_at"])
        _after_commit(_notify_requester, request.pk)
        _after_commit(_notify_staff, "payout_request_decided_staff", request.pk)
    return request


def payout_change_request_approve(*, request_id: int, actor, note: str = "") -> PayoutChangeRequest:
    """Apply the requested details to the cooperative or fund and stamp the decision (one transaction)."""
    return _decide(request_id=request_id, actor=actor, note=note, approve=True)


def payout_change_request_reject(*, request_id: int, actor, note: str = "") -> PayoutChangeRequest:
    """Refuse the request; the organisation's details stay as they are."""
    return _decide(request_id=request_id, actor=actor, note=note, approve=False)


# -- Stripe Connect onboarding ---------------------------------------------------------------------


def portal_onboarding_link(*, organisation, user, refresh_url: str, return_url: str) -> str:
    """A Stripe onboarding link for a leader or treasurer (see services.connected_account_onboarding_link)."""
    from .services import LedgerError, connected_account_onboarding_link

    membership = Membership.objects.filter(user=user, **_org_kwargs(organisation)).first()
    if membership is None or membership.role not in MANAGING_ROLES:
        raise PortalError(_("Only the leader or the treasurer can set up Stripe payouts."))
    try:
        return connected_account_onboarding_link(recipient=organisation, refresh_url=refresh_url, return_url=return_url)
    except LedgerError as exc:
        raise PortalError(str(exc)) from exc
    except stripe.StripeError as exc:
        logger.warning("Stripe onboarding link for %r failed", organisation, exc_info=True)
        raise PortalError(_("Stripe did not answer as expected. Please try again in a few minutes.")) from exc
