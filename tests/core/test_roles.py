"""The staff roles: the data migration gives each group exactly the permissions of ROLES, least privilege."""

import pytest
from django.apps import apps as global_apps
from django.contrib.auth.models import Group, Permission
from django.db import connection

from cacaotours.core.roles import FINANCE, OPERATIONS, ROLES, roles_migrate, roles_sync

pytestmark = pytest.mark.django_db

# What only Finance may do (money), what only Operations may do (the tours), what nobody but the owner may do.
MONEY = {
    "bookings.refund_booking",
    "bookings.resolve_flag",
    "bookings.view_refund",
    "cooperatives.view_share",
    "cooperatives.retry_transfer",
    "cooperatives.resolve_attention",
    "cooperatives.split_payment",
    "cooperatives.manage_payouts",
    "cooperatives.run_reconciliation",
    "cooperatives.resolve_reconciliationissue",
    "cooperatives.change_payoutchangerequest",
}
TOURS = {
    "bookings.change_booking",
    "bookings.move_booking",
    "bookings.resend_confirmation",
    "tours.change_tour",
    "tours.change_departure",
    "tours.add_departure",
    "tours.change_itinerarystop",
    "tours.change_departureschedule",
    "tours.generate_departures",
    "tours.cancel_departure",
    "tours.view_manifest",
    "bookings.checkin_participant",
}
OWNER_ONLY = {
    "users.view_user",
    "users.change_user",
    "auth.change_group",
    "auth.change_permission",
    "cooperatives.change_cooperative",  # payout details change through approved requests only
    "cooperatives.change_communityfund",
    "farms.change_farm",
    "tours.change_sharerule",
    "cooperatives.change_membership",
    "cooperatives.add_invitation",
    "django_celery_beat.change_periodictask",
}


def permissions_of(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_migration_created_both_groups_with_exactly_their_permissions():
    # No `roles` fixture: what the migrations left in the test database (unless a transactional test flushed it).
    if not Group.objects.filter(name__in=ROLES).exists():
        pytest.skip("a transactional test flushed the groups; test_the_roles_migration_on_a_fresh_database covers it")
    assert permissions_of(OPERATIONS) == set(ROLES[OPERATIONS])
    assert permissions_of(FINANCE) == set(ROLES[FINANCE])


def test_every_listed_permission_exists(roles):
    assert roles_sync() == {}
    for name, permissions in ROLES.items():
        assert len(permissions) == len(set(permissions)), f"{name} lists a permission twice"


def test_roles_are_least_privilege(roles):
    operations, finance = permissions_of(OPERATIONS), permissions_of(FINANCE)

    assert operations & MONEY == set()
    assert finance >= MONEY
    assert finance & TOURS == set()
    assert operations >= TOURS
    assert (operations | finance) & OWNER_ONLY == set()
    deletions = {perm for perm in operations | finance if perm.split(".")[1].startswith("delete_")}
    assert deletions == {
        "tours.delete_routephoto",
        "tours.delete_tourphoto",
        "tours.delete_itinerarystop",
    }


def test_sync_puts_the_groups_back_as_defined(roles):
    operations = Group.objects.get(name=OPERATIONS)
    operations.permissions.add(Permission.objects.get(codename="refund_booking"))
    Group.objects.get(name=FINANCE).delete()

    assert roles_sync() == {}

    assert permissions_of(OPERATIONS) == set(ROLES[OPERATIONS])
    assert permissions_of(FINANCE) == set(ROLES[FINANCE])


def test_a_permission_that_does_not_exist_yet_is_skipped_and_reported(roles, monkeypatch):
    monkeypatch.setitem(ROLES, OPERATIONS, (*ROLES[OPERATIONS], "tours.checkin_participant"))

    assert roles_sync() == {OPERATIONS: ["tours.checkin_participant"]}
    assert permissions_of(OPERATIONS) == set(ROLES[OPERATIONS]) - {"tours.checkin_participant"}


class _SchemaEditor:
    connection = connection


def test_the_migration_body_creates_the_permissions_it_hands_out(db):
    """On a fresh database the permissions only appear after every migration (post_migrate): the roles
    migration creates them first. Here: no permission and no group at all, then the migration's body."""
    Permission.objects.all().delete()
    Group.objects.all().delete()

    roles_migrate(global_apps, _SchemaEditor())

    assert permissions_of(OPERATIONS) == set(ROLES[OPERATIONS])
    assert permissions_of(FINANCE) == set(ROLES[FINANCE])


@pytest.mark.postgres
def test_the_roles_migration_on_a_fresh_database(db):
    """The real migration, with the historical models of its point in the graph."""
    from django.db.migrations.executor import MigrationExecutor

    Permission.objects.all().delete()
    Group.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate([("core", None)])  # unapplying is a no-op: the groups stay (here: none)
    executor.loader.build_graph()

    executor.migrate(executor.loader.graph.leaf_nodes("core"))  # every roles migration, in order

    assert permissions_of(OPERATIONS) == set(ROLES[OPERATIONS])
    assert permissions_of(FINANCE) == set(ROLES[FINANCE])
