from __future__ import annotations

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from evidence.vocabularies import DEFAULT_TERMS

    issue_area = apps.get_model("campaigns", "IssueArea")
    term = apps.get_model("evidence", "Term")
    areas = {area.slug: area for area in issue_area.objects.all()}
    for (slug, vocabulary), names in DEFAULT_TERMS.items():
        if slug not in areas:
            continue
        for name_en, name_ru in names:
            term.objects.get_or_create(
                issue_area=areas[slug],
                vocabulary=vocabulary,
                name_en=name_en,
                defaults={"name_ru": name_ru},
            )


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
