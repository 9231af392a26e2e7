"""The audit chain sealed by a sequencer (ADR 19): events are inserted unsealed, then given
their place (`seq`) and hashes by one sequencer; the chain's head is anchored hourly.

Existing events are re-sealed here with the new rule, in id order, after the old chain has
been checked link by link: a broken chain is refused (the migration fails, naming the
event) rather than sealed over. The old rule and the new are copied here so that later
changes to the service cannot change what this migration did.

Run it with every app node and worker stopped: code from before it would append links by
the old rule, which the sequencer cannot seal.
"""

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models

GENESIS_HASH = "0" * 64
_OLD_APPEND_LOCK_KEY = 0x4B41554E  # what code before this migration locked to append

REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    -- The one change allowed: the sequencer sealing an unsealed event, nothing else.
    IF TG_OP = 'UPDATE'
        AND OLD.seq IS NULL AND OLD.previous_hash IS NULL AND OLD.hash IS NULL
        AND NEW.seq IS NOT NULL AND NEW.previous_hash IS NOT NULL AND NEW.hash IS NOT NULL
        AND (NEW.id, NEW.occurred_at, NEW.actor_id, NEW.actor_label, NEW.action,
             NEW.target_type, NEW.target_id, NEW.data)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.occurred_at, OLD.actor_id, OLD.actor_label, OLD.action,
             OLD.target_type, OLD.target_id, OLD.data)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit chain is append-only: % refused on core_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER_OFF = "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
TRIGGER_ON = "ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only"


def _canonical(data):
    return json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"))


def _old_hash(event):
    payload = {
        "previous": event.previous_hash,
        "at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "action": event.action,
        "target": [event.target_type, event.target_id],
        "data": event.data,
    }
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def _new_hash(event, previous_hash, seq):
    payload = {
        "seq": seq,
        "previous": previous_hash,
        "at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor_label,
        "action": event.action,
        "target": [event.target_type, event.target_id],
        "data": event.data,
    }
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


def reseal(apps, schema_editor):
    AuditEvent = apps.get_model("core", "AuditEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("SELECT pg_advisory_xact_lock(%s)", [_OLD_APPEND_LOCK_KEY])
        schema_editor.execute(TRIGGER_OFF, params=None)
    expected_previous, previous, seq, batch = GENESIS_HASH, GENESIS_HASH, 0, []
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != expected_previous or _old_hash(event) != event.hash:
            raise RuntimeError(
                f"The audit chain is broken at event #{event.pk}: not re-sealed. Find out what "
                "was changed (manage.py verify_audit on the previous release) before migrating."
            )
        expected_previous = event.hash
        seq += 1
        event.seq, event.previous_hash = seq, previous
        event.hash = previous = _new_hash(event, previous, seq)
        batch.append(event)
        if len(batch) == 1000:
            AuditEvent.objects.bulk_update(batch, ["seq", "previous_hash", "hash"])
            batch = []
    if batch:
        AuditEvent.objects.bulk_update(batch, ["seq", "previous_hash", "hash"])
    if postgresql:
        schema_editor.execute(REFUSE_CHANGE, params=None)
        schema_editor.execute(TRIGGER_ON, params=None)


def unseal(apps, schema_editor):
    raise RuntimeError("Not reversible: the old rule's hashes are not kept.")


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_scheduled_job_runs'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditAnchor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField()),
                ('hash', models.CharField(max_length=64)),
                ('recorded_at', models.DateTimeField()),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='previous_hash',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.UniqueConstraint(fields=('seq',), name='audit_event_seq_unique'),
        ),
        migrations.RunPython(reseal, unseal, elidable=False),
    ]
