"""The database enforces what the models declare."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models

OWN_APPS = ("users", "core", "cooperatives", "farms", "tours", "bookings")


def declared_constraints() -> set[str]:
    names = set()
    for app_label in OWN_APPS:
        for model in apps.get_app_config(app_label).get_models():
            names |= {
                constraint.name
                for constraint in model._meta.constraints
                if isinstance(constraint, models.CheckConstraint | models.UniqueConstraint)
            }
    return names


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_every_declared_constraint_exists_in_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint UNION SELECT indexname FROM pg_indexes")
        existing = {row[0] for row in cursor.fetchall()}
    declared = declared_constraints()
    assert len(declared) >= 30
    assert declared - existing == set()
