"""A cooperative leader is invited, signs up, and sees the community's share of a booking in Spanish."""

import re

import pytest
from playwright.sync_api import expect

from cooperatives import portal_services
from cooperatives.models import Membership

from .data import PASSWORD, catalog, paid_booking, person

pytestmark = pytest.mark.e2e


def test_a_leader_signs_up_from_the_invitation_and_reads_the_statement(open_flow, mailoutbox, tmp_path):
    data = catalog()
    booking = paid_booking(data.departure, person("rosa@example.com"), adults=2)
    invitation = portal_services.invitation_create(
        email="lideresa@quillabamba.example", role=Membership.Role.LEADER, cooperative=data.cooperative, language="es"
    )
    [mail] = [m for m in mailoutbox if "lideresa@quillabamba.example" in m.to]
    assert invitation.link in mail.body
    flow = open_flow("leader")
    page = flow.page

    # The link from the e-mail: an explanation and a way to create the account.
    page.goto(invitation.link)
    expect(page).to_have_url(re.compile(r"/es/portal/invitation/"))
    expect(page.locator("main")).to_contain_text("Cooperativa Cacaotera de Quillabamba")
    flow.shot("invitation")
    page.get_by_role("link", name="Crear una cuenta").click()

    # Sign-up (allauth), then back to the invitation to accept it.
    page.locator("input[name=email]").fill("lideresa@quillabamba.example")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    flow.shot("sign-up")
    page.locator("main form").get_by_role("button").last.click()
    expect(page).to_have_url(re.compile(r"/es/portal/invitation/"))
    flow.shot("accept")
    page.get_by_role("button", name="Aceptar la invitación").click()

    # The dashboard, in Spanish, with the shares of the booking just paid: 15% + 10% + 5% of S/ 700.00.
    expect(page).to_have_url(re.compile(rf"/es/portal/c/{data.cooperative.pk}/$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1, name="Resumen")).to_be_visible()
    main = page.locator("main")
    expect(main.locator(".currency-card .stats")).to_contain_text("Ganado este mesS/ 210.00")
    expect(main.get_by_role("row", name=re.compile("Día del Cacao en Quillabamba"))).to_contain_text("1S/ 210.00")
    expect(main.get_by_role("row", name=re.compile("Cooperativa Cacaotera de Quillabamba"))).to_contain_text(
        "S/ 105.00"
    )
    flow.shot("dashboard")
    membership = Membership.objects.get(user__email="lideresa@quillabamba.example")
    assert (membership.cooperative_id, membership.role) == (data.cooperative.pk, Membership.Role.LEADER)

    # The monthly statement: CSV download and the print view.
    page.locator("nav").get_by_role("link", name=re.compile("Estado de cuenta")).first.click()
    expect(page).to_have_url(re.compile(r"/estado/\d{4}-\d{2}/$"))
    expect(page.locator("main")).to_contain_text(booking.reference)
    flow.shot("statement")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Descargar CSV").click()
    download = download_info.value
    csv_path = tmp_path / download.suggested_filename
    download.save_as(csv_path)
    text = csv_path.read_text(encoding="utf-8-sig")
    assert re.match(r"estado-de-cuenta-cooperativa-cacaotera-de-quillabamba-\d{4}-\d{2}\.csv$", csv_path.name)
    assert booking.reference in text
    assert "105.00" in text
    page.emulate_media(media="print")
    expect(page.locator(".statement-tools")).to_be_hidden()
    expect(page.locator("header.site-header, .site-header").first).to_be_hidden()
    flow.shot("statement-print")
    flow.check()
