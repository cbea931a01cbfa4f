from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cooperatives", "0010_payable_month"),
    ]

    operations = [
        migrations.AddField(
            model_name="share",
            name="requeued_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="re-enqueued at"),
        ),
    ]
