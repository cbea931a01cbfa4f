"""Who sees what: every portal page of an organisation, for every kind of visitor.

Members see their organisation; a member of another cooperative, a traveller and a staff user
without a membership get a 404 (staff are not members by default); an anonymous visitor is sent
to the sign-in page and back. Nothing is written by a refused request.
"""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cooperatives.models import Membership, PayoutChangeRequest
from cooperatives.portal_selectors import lima_today, organisation_for_member
from tests.factories import MembershipFactory, UserFactory

from . import test_portal_fixtures as shared
from .test_portal_fixtures import en, es

pytestmark = pytest.mark.django_db

# fixtures shared by the portal tests
leader = shared.leader
leader_client = shared.leader_client
other_coop_member = shared.other_coop_member

PAGES = [
    "dashboard",
    "entries",
    "visits",
    "payouts",
    "statement_current",
    "statement",
    "statement_csv",
    "payout_settings",
    "payout_settings:post",
    "stripe_onboarding:post",
]


def _period() -> str:
    today = lima_today()
    return f"{today.year:04d}-{today.month:02d}"


def _request(client, page: str, kind: str, pk: int):
    name, _, method = page.partition(":")
    kwargs = {"kind": kind, "pk": pk}
    if name.startswith("statement") and name != "statement_current":
        kwargs["period"] = _period()
    url = es(name, **kwargs)
    if method == "post":
        return url, client.post(
            url, {"payout_method": "bank_transfer", "bank_account_holder": "X", "bank_cci": "1" * 20}
        )
    return url, client.get(url)


@pytest.fixture
def fund_member(fund):
    user = UserFactory(email="tesorera@fondo.example", preferred_language="es")
    MembershipFactory(user=user, cooperative=None, fund=fund, role=Membership.Role.TREASURER)
    return user


@pytest.fixture
def visitors(other_coop_member, traveller, staff_user):
    return {"other cooperative": other_coop_member, "traveller": traveller, "staff": staff_user}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("visitor", ["other cooperative", "traveller", "staff"])
@pytest.mark.parametrize("kind", ["c", "f"])
def test_a_non_member_gets_404_on_every_page(client, coop, fund, visitors, page, visitor, kind):
    client.force_login(visitors[visitor])
    pk = coop.pk if kind == "c" else fund.pk

    url, response = _request(client, page, kind, pk)

    assert response.status_code == 404, url
    assert PayoutChangeRequest.objects.count() == 0


@pytest.mark.parametrize("page", PAGES)
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, coop, page):
    url, response = _request(client, page, "c", coop.pk)

    with translation.override("es"):
        login = reverse("account_login")
    assert response.status_code == 302
    assert response["Location"] == f"{login}?next={url}"
    assert PayoutChangeRequest.objects.count() == 0


@pytest.mark.parametrize("page", PAGES)
def test_a_member_opens_every_page(leader_client, coop, page):
    url, response = _request(leader_client, page, "c", coop.pk)

    expected = {
        "statement_current": 302,  # to this month
        "payout_settings:post": 302,  # the request was sent
        "stripe_onboarding:post": 302,  # Stripe is not configured here: back with a note
    }.get(page, 200)
    assert response.status_code == expected, url


@pytest.mark.parametrize("page", PAGES)
def test_a_fund_member_opens_the_fund_but_not_its_cooperative(client, fund_member, coop, fund, page):
    client.force_login(fund_member)

    _, own = _request(client, page, "f", fund.pk)
    _, cooperative = _request(client, page, "c", coop.pk)

    assert own.status_code in (200, 302)
    assert cooperative.status_code == 404


def test_unknown_ids_and_kinds_are_404(leader_client, coop):
    assert leader_client.get(es("dashboard", kind="c", pk=coop.pk + 1000)).status_code == 404
    assert leader_client.get(es("dashboard", kind="f", pk=coop.pk)).status_code == 404  # a coop id as a fund id
    assert leader_client.get(f"/es/portal/x/{coop.pk}/").status_code == 404
    assert leader_client.get(f"/es/portal/c/{coop.pk}/estado/2026-13/").status_code == 404
    today = lima_today()
    future = f"{today.year + 1:04d}-{today.month:02d}"
    assert leader_client.get(es("statement", kind="c", pk=coop.pk, period=future)).status_code == 404


def test_staff_without_membership_is_not_a_member(staff_user, coop):
    with pytest.raises(Exception) as raised:
        organisation_for_member(staff_user, "c", coop.pk)
    assert raised.type.__name__ == "Http404"


def test_the_index_lists_several_organisations_and_goes_straight_in_with_one(client, leader, coop, fund):
    client.force_login(leader)
    response = client.get(es("index"))
    assert response.status_code == 302
    assert response["Location"] == es("dashboard", kind="c", pk=coop.pk)

    MembershipFactory(user=leader, cooperative=None, fund=fund, role=Membership.Role.VIEWER)
    response = client.get(es("index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert es("dashboard", kind="c", pk=coop.pk) in html
    assert es("dashboard", kind="f", pk=fund.pk) in html

    # and the switcher in the portal header offers both
    html = client.get(es("dashboard", kind="f", pk=fund.pk)).content.decode()
    assert 'class="switcher"' in html
    assert es("dashboard", kind="c", pk=coop.pk) in html


def test_a_person_without_a_community_is_told_so(client, traveller):
    client.force_login(traveller)

    response = client.get(es("index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="org-list"' not in html
    assert "mailto:reservas@kallpa.example" in html  # ask Kallpa for an invitation


def test_viewers_see_the_change_form_disabled_and_cannot_post(client, coop):
    viewer = UserFactory(email="socio@quillabamba.example", preferred_language="es")
    MembershipFactory(user=viewer, cooperative=coop, role=Membership.Role.VIEWER)
    client.force_login(viewer)
    url = es("payout_settings", kind="c", pk=coop.pk)

    page = client.get(url).content.decode()
    response = client.post(url, {"payout_method": "bank_transfer", "bank_account_holder": "X", "bank_cci": "1" * 20})

    assert "disabled" in page
    assert response.status_code == 403
    assert PayoutChangeRequest.objects.count() == 0
    onboarding = client.post(es("stripe_onboarding", kind="c", pk=coop.pk))
    assert onboarding.status_code == 302
    coop.refresh_from_db()
    assert coop.updated_at <= timezone.now()


def test_the_header_links_to_the_portal_for_members_only(client, traveller, leader, coop):
    anonymous = client.get("/es/").content.decode()
    client.force_login(traveller)
    as_traveller = client.get("/es/").content.decode()
    client.force_login(leader)
    as_leader = client.get("/es/").content.decode()

    assert "/portal/" not in anonymous
    assert "/portal/" not in as_traveller
    assert f'href="{es("dashboard", kind="c", pk=coop.pk)}"' in as_leader


def test_english_urls_are_the_same_pages(client, leader, coop):
    leader.preferred_language = "en"
    leader.save(update_fields=["preferred_language"])
    client.force_login(leader)

    assert client.get(en("dashboard", kind="c", pk=coop.pk)).status_code == 200
