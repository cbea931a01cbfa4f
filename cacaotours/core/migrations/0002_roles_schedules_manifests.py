"""Operations get part of issue 6's permissions (schedules, departure cancellation, manifests,
check-in); Finance gets splitting a payment again (cooperatives.split_payment)."""

from django.db import migrations

from cacaotours.core.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_roles"),
        ("tours", "0003_departure_schedules"),
        ("bookings", "0003_staff_operations"),
        ("cooperatives", "0008_split_payment_permission"),
    ]
    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]
