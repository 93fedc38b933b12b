"""The products certdesk starts with; the operator edits prices and adds more in the console."""

from django.db import migrations

PRODUCTS = [
    # code, Japanese name, English name, profile, max names, price (JPY before tax)
    ("dv-single", "DV 証明書 (1 ドメイン)", "DV certificate (single name)", "dv-single", 1, 3300),
    ("dv-multi", "DV マルチドメイン証明書", "DV multi-domain certificate", "dv-multi", 25, 13200),
    ("dv-wildcard", "DV ワイルドカード証明書", "DV wildcard certificate", "dv-wildcard", 2, 22000),
    ("ov-single", "OV 証明書 (1 ドメイン)", "OV certificate (single name)", "ov-single", 1, 39600),
    ("ov-multi", "OV マルチドメイン証明書", "OV multi-domain certificate", "ov-multi", 25, 79200),
    ("ov-wildcard", "OV ワイルドカード証明書", "OV wildcard certificate", "ov-wildcard", 2, 99000),
]


def create(apps, schema_editor):
    Product = apps.get_model("certificates", "Product")
    for order, (code, name_ja, name_en, profile, max_names, price) in enumerate(PRODUCTS):
        Product.objects.get_or_create(
            code=code,
            defaults={
                "name_ja": name_ja,
                "name_en": name_en,
                "profile": profile,
                "max_names": max_names,
                "price_jpy": price,
                "supplier": "builtin",
                "sort_order": order * 10,
            },
        )


def remove(apps, schema_editor):
    apps.get_model("certificates", "Product").objects.filter(
        code__in=[row[0] for row in PRODUCTS], applications__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("certificates", "0003_initial")]

    operations = [migrations.RunPython(create, remove)]
