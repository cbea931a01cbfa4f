"""The staff roles: Django groups and exactly the permissions each one has, defined here only.

Two groups, least privilege (the owner is the only superuser):

* **Operations** run the tours: routes, tours, itineraries, recurring schedules, departures
  (including cancelling one, which refunds its bookings in full by the normal refund path), the
  bookings (search, contact details, moves, resending confirmations, internal notes), manifests
  and check-in. They cannot delete a schedule (ending its date range stops it).
* **Finance** handle the money: refunds, booking flags (amount mismatches, disputes), the
  revenue-share ledger, Stripe transfer retries, bank payout batches, reconciliation and the
  approval of cooperatives' payout-detail changes.

A member of both groups has the union. ``roles_sync`` makes the database match ``ROLES``
(groups created, permissions set to exactly the listed ones); data migrations of the ``core``
app call it through ``roles_migrate``. To give a group a permission: add one line below and a
tiny migration in ``cacaotours/core/migrations`` that depends on the migration creating the
permission (its model's ``Meta.permissions``) and runs ``RunPython(roles_migrate, noop)`` —
see docs/staff-operations.md.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS

OPERATIONS = "Operations"
FINANCE = "Finance"

# "app_label.codename", as in user.has_perm(). Keep each list sorted by app, then model.
ROLES: dict[str, tuple[str, ...]] = {
    OPERATIONS: (
        # bookings: find, correct contact details, move, resend the confirmation, internal notes
        "bookings.view_booking",
        "bookings.change_booking",
        "bookings.move_booking",
        "bookings.resend_confirmation",
        "bookings.add_bookingnote",
        "bookings.view_participant",
        "bookings.checkin_participant",
        "bookings.view_payment",
        # the catalog's tours, itineraries and departures
        "tours.view_route",
        "tours.add_route",
        "tours.change_route",
        "tours.view_routephoto",
        "tours.add_routephoto",
        "tours.change_routephoto",
        "tours.delete_routephoto",
        "tours.view_tour",
        "tours.add_tour",
        "tours.change_tour",
        "tours.view_tourphoto",
        "tours.add_tourphoto",
        "tours.change_tourphoto",
        "tours.delete_tourphoto",
        "tours.view_itinerarystop",
        "tours.add_itinerarystop",
        "tours.change_itinerarystop",
        "tours.delete_itinerarystop",
        "tours.view_departure",
        "tours.add_departure",
        "tours.change_departure",
        "tours.cancel_departure",
        "tours.view_manifest",
        "tours.view_departureschedule",
        "tours.add_departureschedule",
        "tours.change_departureschedule",
        "tours.generate_departures",
        "tours.view_sharerule",
        # recipients, read-only (itinerary stops and share rules point at them)
        "farms.view_farm",
        "cooperatives.view_cooperative",
        "cooperatives.view_communityfund",
    ),
    FINANCE: (
        # bookings: refunds and flags (amount mismatch, dispute, failed refund)
        "bookings.view_booking",
        "bookings.refund_booking",
        "bookings.resolve_flag",
        "bookings.add_bookingnote",
        "bookings.view_participant",
        "bookings.view_payment",
        "bookings.view_paymenttransition",
        "bookings.view_refund",
        "bookings.view_stripeevent",
        # the revenue-share ledger and Stripe transfers
        "cooperatives.view_share",
        "cooperatives.view_sharetransition",
        "cooperatives.retry_transfer",
        "cooperatives.resolve_attention",
        "cooperatives.split_payment",
        "cooperatives.view_journalentry",
        "cooperatives.view_journalleg",
        "cooperatives.view_ledgeraccount",
        "cooperatives.view_transfer",
        "cooperatives.view_transferreversal",
        # bank payouts and reconciliation
        "cooperatives.view_payoutbatch",
        "cooperatives.view_payoutline",
        "cooperatives.manage_payouts",
        "cooperatives.view_reconciliationrun",
        "cooperatives.run_reconciliation",
        "cooperatives.view_reconciliationissue",
        "cooperatives.resolve_reconciliationissue",
        # payout details: approve the leaders' change requests; see the details on file
        "cooperatives.view_payoutchangerequest",
        "cooperatives.change_payoutchangerequest",
        "cooperatives.view_cooperative",
        "cooperatives.view_communityfund",
        "farms.view_farm",
        # what the bookings and shares belong to
        "tours.view_route",
        "tours.view_tour",
        "tours.view_departure",
        "tours.view_sharerule",
    ),
}


def permissions_create(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the content types and permissions of every model now, not at the end of ``migrate``.

    During a fresh ``migrate`` they only appear in the post_migrate signal, after all migrations:
    a data migration that hands out permissions must create them first. Idempotent.
    """
    for app_config in apps.get_app_configs():
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True  # historical app configs have none
        try:
            create_permissions(app_config, apps=apps, verbosity=0, using=using)
        finally:
            app_config.models_module = had_models


def roles_sync(*, apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> dict[str, list[str]]:
    """Create the groups of ``ROLES`` and set each one's permissions to exactly its list.

    Returns, per group, the permissions that do not exist (yet): a migration that runs before
    the one creating a permission skips it, and a later roles migration adds it. The tests check
    that nothing is missing once every migration has run.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = {tuple(name.split(".", 1)) for names in ROLES.values() for name in names}
    found = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.using(using)
        .filter(codename__in={codename for _app, codename in wanted})
        .values_list("pk", "content_type__app_label", "codename")
    }
    missing: dict[str, list[str]] = {}
    for name, permissions in ROLES.items():
        group, _created = Group.objects.using(using).get_or_create(name=name)
        keys = [tuple(perm.split(".", 1)) for perm in permissions]
        group.permissions.set([found[key] for key in keys if key in found])
        absent = [perm for perm, key in zip(permissions, keys, strict=True) if key not in found]
        if absent:
            missing[name] = absent
    return missing


def roles_migrate(apps, schema_editor) -> None:
    """``RunPython`` body of the roles data migrations: permissions first, then the groups."""
    using = schema_editor.connection.alias
    permissions_create(apps=apps, using=using)
    roles_sync(apps=apps, using=using)
