"""Seeds the default policy; its blank fields follow the RATE_LIMIT_* settings until an operator pins them."""
from django.db import migrations


def seed(apps, schema_editor):
    QuotaPolicy = apps.get_model("quotas", "QuotaPolicy")
    if not QuotaPolicy.objects.filter(is_default=True).exists():
        QuotaPolicy.objects.create(name="default", is_default=True)


def unseed(apps, schema_editor):
    apps.get_model("quotas", "QuotaPolicy").objects.filter(name="default", is_default=True).delete()


class Migration(migrations.Migration):
    dependencies = [("quotas", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
