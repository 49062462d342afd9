from django.db import migrations

AREAS = [
    ("bank-accounts", "Bank accounts and payments", "Банковские счета и платежи"),
    ("vehicles", "Vehicles and entry rules", "Автомобили и правила въезда"),
    ("visas", "Visas and residence permits", "Визы и виды на жительство"),
    ("documents", "Identity documents", "Документы, удостоверяющие личность"),
    ("other", "Other", "Другое"),
]


def seed(apps, schema_editor):
    IssueArea = apps.get_model("campaigns", "IssueArea")
    for position, (slug, name_en, name_ru) in enumerate(AREAS):
        IssueArea.objects.update_or_create(
            slug=slug, defaults={"name_en": name_en, "name_ru": name_ru, "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
