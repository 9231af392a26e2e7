from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_issued_documents"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="delivery_status",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="status_reason",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="status_updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
