"""The audit trail: every admin change page shows the object's latest LogEntry rows (one mechanism)."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cacaotours.core.audit import AUDIT_TRAIL_LIMIT, audit_entries_for
from tests.factories import CertificationFactory

pytestmark = pytest.mark.django_db


def log(user, obj, message: str) -> LogEntry:
    return LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


def test_a_change_through_the_admin_form_is_on_the_objects_page(staff_client, staff_user):
    certification = CertificationFactory(code="organic", name_en="Organic", name_es="Orgánico")
    url = reverse("admin:cooperatives_certification_change", args=[certification.pk])

    response = staff_client.post(url, {"code": "organic-eu", "name_en": "Organic (EU)", "name_es": "Orgánico (UE)"})

    assert response.status_code == 302
    [entry] = LogEntry.objects.all()
    assert (entry.user, entry.object_id, entry.action_flag) == (staff_user, str(certification.pk), CHANGE)
    page = staff_client.get(url).content.decode()
    assert "Audit trail" in page
    assert entry.get_change_message() in page  # "Changed Code, Name [en] and Name [es]."
    assert "admin@kallpa.example" in page
    assert reverse("admin:cooperatives_certification_history", args=[certification.pk]) in page


def test_third_party_admin_pages_have_it_too(staff_client, staff_user):
    group = Group.objects.create(name="Guides")
    log(staff_user, group, "Renamed for the season.")

    page = staff_client.get(reverse("admin:auth_group_change", args=[group.pk])).content.decode()

    assert "Audit trail" in page and "Renamed for the season." in page


def test_not_on_add_pages(staff_client):
    page = staff_client.get(reverse("admin:cooperatives_certification_add")).content.decode()
    assert "Audit trail" not in page


def test_newest_first_and_limited(staff_user):
    certification = CertificationFactory()
    other = CertificationFactory()
    for i in range(AUDIT_TRAIL_LIMIT + 3):
        log(staff_user, certification, f"change {i}")
    log(staff_user, other, "not this one")

    entries = audit_entries_for(certification)

    assert [e.change_message for e in entries] == [f"change {i}" for i in range(AUDIT_TRAIL_LIMIT + 2, 2, -1)]


def test_one_query_whatever_the_number_of_entries(staff_user):
    certification = CertificationFactory()
    ContentType.objects.get_for_model(certification)  # cached per process, as in a running server
    log(staff_user, certification, "one")

    with CaptureQueriesContext(connection) as one:
        audit_entries_for(certification)
    for i in range(10):
        log(staff_user, certification, f"more {i}")
    with CaptureQueriesContext(connection) as many:
        assert len(audit_entries_for(certification)) == 11

    assert len(one) == len(many) == 1
