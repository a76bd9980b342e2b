"""Loading the shipped preliminary code list into the ``Code`` table."""

from __future__ import annotations

from inuk.format.codelist import shipped_rows


def load(code_model) -> int:
    """Create the shipped codes that are missing; returns how many were created."""
    created_count = 0
    for row in shipped_rows():
        _, created = code_model.objects.get_or_create(
            kind=row["kind"],
            code=row["code"],
            valid_from=row["valid_from"],
            defaults={
                "name_sv": row["name_sv"],
                "name_en": row["name_en"],
                "description": row["description_sv"],
                "valid_to": row["valid_to"],
            },
        )
        created_count += created
    return created_count
