"""The Operations and Finance staff groups (cacaotours/core/roles.py)."""

from django.db import migrations

from cacaotours.core.roles import roles_migrate


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("users", "0001_initial"),
        ("farms", "0001_initial"),
        ("tours", "0002_seat_holds"),
        ("bookings", "0003_staff_operations"),
        ("cooperatives", "0007_staff_operations"),
    ]

    operations = [migrations.RunPython(roles_migrate, migrations.RunPython.noop)]
