"""Offers' deadlines on a whole minute (members.volunteering.offer_deadline rounds up now)."""

from datetime import timedelta

from django.db import migrations


def round_up(apps, schema_editor):
    Membership = apps.get_model("members", "Membership")
    for row in Membership.objects.filter(offer_expires_at__isnull=False).only("offer_expires_at"):
        moment = row.offer_expires_at
        whole = moment.replace(second=0, microsecond=0)
        if whole != moment:
            row.offer_expires_at = whole + timedelta(minutes=1)
            row.save(update_fields=["offer_expires_at"])


class Migration(migrations.Migration):
    dependencies = [("members", "0005_content_version")]

    operations = [migrations.RunPython(round_up, migrations.RunPython.noop)]
