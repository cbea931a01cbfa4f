"""How members find the portal: the header link (members only) and where sign-in lands them."""

import pytest
from django.urls import reverse

from cooperatives.models import Membership
from tests.factories import CommunityFundFactory, MembershipFactory, UserFactory

from . import test_portal_fixtures as shared
from .test_portal_fixtures import LEADER_EMAIL

pytestmark = pytest.mark.django_db

leader = shared.leader

PASSWORD = "cacao-de-Quillabamba-2026"


def _dashboard(organisation, kind: str = "c") -> str:
    return reverse("portal:dashboard", kwargs={"kind": kind, "pk": organisation.pk})


def _sign_in(client, email: str, next_url: str = ""):
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"login": email, "password": PASSWORD})


def _with_password(user):
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def test_the_header_links_a_leader_to_the_dashboard(client, leader, coop):
    client.force_login(leader)
    page = client.get(reverse("bookings:list")).content.decode()
    assert f'href="{_dashboard(coop)}"' in page
    assert ">Portal</a>" in page


def test_a_member_of_two_organisations_is_linked_to_the_chooser(client, leader, coop):
    fund = CommunityFundFactory(cooperative=coop)
    MembershipFactory(user=leader, cooperative=None, fund=fund, role=Membership.Role.TREASURER)
    client.force_login(leader)
    page = client.get(reverse("bookings:list")).content.decode()
    assert f'href="{reverse("portal:index")}"' in page
    assert ">Portal</a>" in page


def test_a_traveller_sees_no_portal_link(client):
    client.force_login(UserFactory(email="viajera@example.com"))
    page = client.get(reverse("bookings:list")).content.decode()
    assert "/portal/" not in page
    assert ">Portal</a>" not in page


def test_visitors_see_no_portal_link(client):
    page = client.get(reverse("tours:home")).content.decode()
    assert ">Portal</a>" not in page


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_leader_signing_in_lands_on_the_spanish_dashboard_told_in_spanish(client, leader, coop):
    _with_password(leader)
    response = _sign_in(client, LEADER_EMAIL)  # on the English sign-in page
    assert response.status_code == 302
    assert response["Location"] == f"/es{_dashboard(coop)}"

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page["Content-Language"] == "es"
    assert _messages(page) == ["Ha iniciado sesión exitosamente como Marleni Huamán <dirigente@quillabamba.example>."]


def test_a_leader_who_prefers_english_lands_on_the_english_dashboard_told_in_english(client, leader, coop):
    leader.preferred_language = "en"
    leader.save(update_fields=["preferred_language"])
    _with_password(leader)
    response = _sign_in(client, LEADER_EMAIL)
    assert response["Location"] == _dashboard(coop)

    page = client.get(response["Location"])
    assert page["Content-Language"] == "en"
    assert _messages(page) == ["Successfully signed in as Marleni Huamán <dirigente@quillabamba.example>."]


def test_a_leader_signing_in_on_the_spanish_page_stays_in_spanish(client, leader, coop):
    _with_password(leader)
    dashboard = _dashboard(coop)
    response = client.post(f"/es{reverse('account_login')}", {"login": LEADER_EMAIL, "password": PASSWORD})
    assert response["Location"] == f"/es{dashboard}"


def test_a_link_that_sent_the_leader_to_sign_in_still_wins(client, leader):
    _with_password(leader)
    wanted = reverse("bookings:list")
    response = _sign_in(client, LEADER_EMAIL, next_url=wanted)
    assert response["Location"] == wanted
    page = client.get(wanted)
    assert _messages(page) == ["Successfully signed in as Marleni Huamán <dirigente@quillabamba.example>."]


def test_a_traveller_signing_in_lands_on_my_bookings(client):
    _with_password(UserFactory(email="viajero@example.com"))
    response = _sign_in(client, "viajero@example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:list")


def test_a_wrong_password_signs_nobody_in(client, leader):
    _with_password(leader)
    response = client.post(reverse("account_login"), {"login": LEADER_EMAIL, "password": "not-it"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
