"""API keys kept as digests (`ApiToken`): the keys DRF's `authtoken` stored in plain text
are moved over as their SHA-256 (they keep working) and deleted. Not reversible: the keys
cannot be recovered from their digests, so going back leaves every integration without a
key (issue new ones with `manage.py issue_api_token`)."""

import hashlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def digest_plain_keys(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=token.user_id,
            digest=hashlib.sha256(token.key.encode()).hexdigest(),
            created_at=token.created,
        )
        for token in Token.objects.all()
    )
    Token.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_land_officer_role"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_token",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(digest_plain_keys, migrations.RunPython.noop),
    ]
