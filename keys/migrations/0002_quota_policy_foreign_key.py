"""RelayKey.quota_policy: from the placeholder policy name to a foreign key to quotas' policies."""
import django.db.models.deletion
from django.db import migrations, models


def names_to_policies(apps, schema_editor):
    RelayKey = apps.get_model("keys", "RelayKey")
    QuotaPolicy = apps.get_model("quotas", "QuotaPolicy")
    by_name = {p.name: p.pk for p in QuotaPolicy.objects.all()}
    for key in RelayKey.objects.exclude(quota_policy_name=""):
        # An unknown name falls back to the default policy, as a blank one always did.
        RelayKey.objects.filter(pk=key.pk).update(quota_policy_id=by_name.get(key.quota_policy_name))


def policies_to_names(apps, schema_editor):
    RelayKey = apps.get_model("keys", "RelayKey")
    for key in RelayKey.objects.exclude(quota_policy=None).select_related("quota_policy"):
        RelayKey.objects.filter(pk=key.pk).update(quota_policy_name=key.quota_policy.name)


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_initial"),
        ("quotas", "0003_usage_pages"),
    ]

    operations = [
        migrations.RenameField("relaykey", "quota_policy", "quota_policy_name"),
        migrations.AddField(
            model_name="relaykey",
            name="quota_policy",
            field=models.ForeignKey(
                blank=True,
                help_text="Limits for this key (blank: the default policy). A policy assigned to "
                "the key's fingerprint on the usage pages takes precedence.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="relay_keys",
                to="quotas.quotapolicy",
            ),
        ),
        migrations.RunPython(names_to_policies, policies_to_names),
        migrations.RemoveField("relaykey", "quota_policy_name"),
    ]
