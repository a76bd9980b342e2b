"""Loading the shipped municipalities and AF into the organisation tables."""

from __future__ import annotations

from inuk.format.municipalities import AF_NAME, AF_ORGNR, municipalities


def load(organisation_model, municipality_model) -> int:
    """Create or update AF and the municipalities; returns how many rows were written.

    Takes the model classes so that migrations can pass their historical models.
    Names an administrator changed in the admin are left alone.
    """
    written = 0
    _, created = organisation_model.objects.get_or_create(
        orgnr=AF_ORGNR, defaults={"name": AF_NAME, "kind": "af"}
    )
    written += created
    for row in municipalities():
        organisation, created = organisation_model.objects.get_or_create(
            orgnr=row.orgnr, defaults={"name": f"{row.name} kommun", "kind": "kommun"}
        )
        written += created
        _, created = municipality_model.objects.get_or_create(
            code=row.code,
            defaults={
                "name": row.name,
                "county_code": row.county_code,
                "county_name": row.county_name,
                "organisation": organisation,
            },
        )
        written += created
    return written
