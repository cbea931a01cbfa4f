"""Invitations end to end: staff invite in the admin → e-mail → sign up → accept → dashboard.

And every way a link can fail (expired, reused, revoked, unknown, another e-mail address):
a clear message, nothing changed.
"""

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from freezegun import freeze_time

from cooperatives import portal_services as services
from cooperatives.models import Invitation, Membership
from tests.factories import MembershipFactory, UserFactory

from .test_portal_fixtures import es

pytestmark = pytest.mark.django_db

# fixtures shared by the portal tests
INVITED = "tesorera@quillabamba.example"
LINK = re.compile(r"http://[^\s\"<]+/es/portal/invitation/([A-Za-z0-9_-]+)/")


def _admin_add_url() -> str:
    return reverse("admin:cooperatives_invitation_add")


def _invite(staff_client, capture, coop, *, email=INVITED, role="treasurer") -> str:
    """Create the invitation in the admin; return the token read from the e-mail."""
    before = len(mail.outbox)
    with capture(execute=True):
        response = staff_client.post(
            _admin_add_url(),
            {"email": email, "cooperative": coop.pk, "fund": "", "role": role, "language": "es", "_save": "Save"},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert len(mail.outbox) == before + 1
    message = mail.outbox[-1]
    assert message.to == [email]
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    [token] = set(LINK.findall(message.body))
    assert f"/es/portal/invitation/{token}/" in html
    return token


def _problem(invitation) -> str:
    """The message the Spanish page shows for ``invitation`` (translated, HTML-escaped)."""
    with translation.override("es"):
        return escape(services.invitation_problem(invitation))


def _snapshot():
    return (
        sorted(Membership.objects.values_list("user__email", "cooperative_id", "fund_id", "role")),
        sorted(Invitation.objects.values_list("pk", "accepted_at", "accepted_by_id", "revoked_at", "token_hash")),
    )


def test_the_invitation_flow_end_to_end(client, staff_client, coop, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    token = _invite(staff_client, capture, coop)

    invitation = Invitation.objects.get()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(Invitation.objects.values_list())  # only the hash is stored
    assert (invitation.email, invitation.cooperative, invitation.role, invitation.language) == (
        INVITED,
        coop,
        "treasurer",
        "es",
    )
    assert abs(invitation.expires_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    assert invitation.invited_by.email == "admin@kallpa.example"

    # an anonymous visitor gets the explanation and sign-up / sign-in links that come back here
    staff_client.logout()
    link = es("invitation", token=token)
    page = client.get(link)
    html = page.content.decode()
    with translation.override("es"):
        signup = reverse("account_signup")
    assert page.status_code == 200
    assert coop.name_es in html and INVITED in html
    assert f"{signup}?next={link.replace('/', '%2F')}" in html

    # sign up with allauth with that address; allauth sends us back to the link
    with capture(execute=True):
        response = client.post(
            f"{signup}?next={link}",
            {"email": INVITED, "password1": "cacao-secret-2026", "password2": "cacao-secret-2026"},
        )
    assert response.status_code == 302
    assert response["Location"] == link
    user = UserFactory._meta.model.objects.get(email=INVITED)
    assert not EmailAddress.objects.get(user=user).verified

    page = client.get(link)
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()
    response = client.post(link)

    assert response.status_code == 302
    assert response["Location"] == es("dashboard", kind="c", pk=coop.pk)
    membership = Membership.objects.get(user=user)
    assert (membership.cooperative, membership.fund, membership.role) == (coop, None, "treasurer")
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    assert EmailAddress.objects.get(user=user).verified  # the token reached that inbox
    user.refresh_from_db()
    assert user.preferred_language == "es"  # a new account takes the invitation's language
    dashboard = client.get(response["Location"])
    assert dashboard.status_code == 200
    assert coop.name_es in dashboard.content.decode()

    # the same link again: used, nothing changes
    before = _snapshot()
    again = client.post(link)
    assert again.status_code == 410
    assert _problem(invitation) in again.content.decode()
    assert _snapshot() == before


@pytest.fixture
def invited(coop):
    return services.invitation_create(email=INVITED, role="leader", cooperative=coop)


@pytest.fixture
def invitee(db):
    user = UserFactory(email=INVITED)
    EmailAddress.objects.create(user=user, email=INVITED, verified=True, primary=True)
    return user


def test_an_expired_link_changes_nothing(client, invited, invitee):
    client.force_login(invitee)
    before = _snapshot()

    with freeze_time(timezone.now() + timedelta(days=15)):
        response = client.post(es("invitation", token=invited.token))

        problem = _problem(invited)

    assert response.status_code == 410
    assert problem in response.content.decode()
    assert _snapshot() == before
    assert not Membership.objects.filter(user=invitee).exists()


def test_a_revoked_link_changes_nothing(client, staff_client, invited, invitee):
    staff_client.post(
        reverse("admin:cooperatives_invitation_changelist"), {"action": "revoke", "_selected_action": [invited.pk]}
    )
    invited.refresh_from_db()
    assert invited.revoked_at is not None
    staff_client.logout()
    client.force_login(invitee)
    before = _snapshot()

    response = client.post(es("invitation", token=invited.token))

    assert response.status_code == 410
    assert _snapshot() == before
    assert not Membership.objects.filter(user=invitee).exists()


def test_an_unknown_token_is_a_clear_404(client, invitee, invited):
    client.force_login(invitee)
    before = _snapshot()

    response = client.post(es("invitation", token="not-a-real-token"))

    assert response.status_code == 404
    assert _problem(None) in response.content.decode()
    assert _snapshot() == before


def test_another_email_address_is_refused_and_told_which_was_invited(client, invited):
    someone = UserFactory(email="otra.persona@example.com")
    EmailAddress.objects.create(user=someone, email=someone.email, verified=True, primary=True)
    client.force_login(someone)
    before = _snapshot()

    page = client.get(es("invitation", token=invited.token)).content.decode()
    response = client.post(es("invitation", token=invited.token))

    assert INVITED in page and 'name="next"' in page  # sign out and come back
    assert response.status_code == 409
    assert INVITED in response.content.decode()
    assert _snapshot() == before


def test_an_unverified_secondary_address_is_not_enough(client, invited):
    someone = UserFactory(email="principal@example.com")
    EmailAddress.objects.create(user=someone, email=someone.email, verified=True, primary=True)
    EmailAddress.objects.create(user=someone, email=INVITED, verified=False, primary=False)
    client.force_login(someone)

    assert client.post(es("invitation", token=invited.token)).status_code == 409

    EmailAddress.objects.filter(email=INVITED).update(verified=True)
    assert client.post(es("invitation", token=invited.token)).status_code == 302
    assert Membership.objects.get(user=someone).role == "leader"


def test_accepting_raises_a_role_but_never_lowers_it(coop, invitee):
    membership = MembershipFactory(user=invitee, cooperative=coop, role=Membership.Role.VIEWER)
    raised = services.invitation_create(email=INVITED, role="treasurer", cooperative=coop)
    services.invitation_accept(token=raised.token, user=invitee)
    membership.refresh_from_db()
    assert membership.role == "treasurer"

    lower = services.invitation_create(email=INVITED, role="viewer", cooperative=coop)
    services.invitation_accept(token=lower.token, user=invitee)
    membership.refresh_from_db()
    assert membership.role == "treasurer"
    assert Membership.objects.filter(user=invitee).count() == 1


def test_a_fund_invitation_makes_a_fund_member(client, fund, invitee):
    invitation = services.invitation_create(email=INVITED, role="viewer", fund=fund)
    client.force_login(invitee)

    response = client.post(es("invitation", token=invitation.token))

    assert response["Location"] == es("dashboard", kind="f", pk=fund.pk)
    assert Membership.objects.get(user=invitee).fund == fund


def test_resend_gives_a_fresh_link_and_the_old_one_stops_working(
    client, staff_client, invited, invitee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("admin:cooperatives_invitation_changelist"), {"action": "resend", "_selected_action": [invited.pk]}
        )
    [message] = mail.outbox
    [token] = set(LINK.findall(message.body))
    assert token != invited.token
    staff_client.logout()
    client.force_login(invitee)

    assert client.post(es("invitation", token=invited.token)).status_code == 404
    assert client.post(es("invitation", token=token)).status_code == 302


def test_the_admin_refuses_an_invitation_to_both_or_neither(staff_client, coop, fund):
    for data in ({"cooperative": coop.pk, "fund": fund.pk}, {"cooperative": "", "fund": ""}):
        response = staff_client.post(
            _admin_add_url(), {"email": INVITED, "role": "leader", "language": "es", "_save": "Save", **data}
        )
        assert response.status_code == 200
        assert "one of the two" in response.content.decode()
    assert Invitation.objects.count() == 0
    assert mail.outbox == []


def test_the_invitation_email_is_in_spanish_by_default(coop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(email=INVITED, role="leader", cooperative=coop)

    [message] = mail.outbox
    assert coop.name_es in message.subject
    assert "/es/portal/invitation/" in message.body
    assert '<html lang="es">' in message.alternatives[0][0]


def test_the_portal_admin_pages_render_and_search(client, staff_user, coop, invited, invitee):
    from cooperatives.models import PayoutChangeRequest

    request = PayoutChangeRequest.objects.create(
        cooperative=coop,
        requested_by=invitee,
        payout_method="bank_transfer",
        bank_account_holder="X",
        bank_cci="1" * 20,
    )
    client.force_login(staff_user)
    pages = [
        reverse("admin:cooperatives_invitation_changelist"),
        reverse("admin:cooperatives_invitation_changelist") + "?q=tesorera",
        reverse("admin:cooperatives_invitation_changelist") + f"?q={coop.name_en.split()[0]}",
        reverse("admin:cooperatives_invitation_change", args=[invited.pk]),
        reverse("admin:cooperatives_payoutchangerequest_changelist") + "?q=X",
        reverse("admin:cooperatives_payoutchangerequest_change", args=[request.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    change = client.get(pages[-1]).content.decode()
    assert 'name="_approve"' in change and 'name="_reject"' in change
    assert client.get(reverse("admin:cooperatives_payoutchangerequest_add")).status_code == 403
