"""What the benchmarks share: the synthetic file and the bare parse they are measured against."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from inuk.intake import synthetic
from inuk.intake.formats import writers


def generate(path: Path, persons: int, per_person: int, *, changed_to: Path | None = None) -> None:
    """A delivery of Upplands Väsby; with ``changed_to``, also the same history, 1 % changed."""
    kommuner = synthetic.delivery(
        synthetic.municipality("0114"), persons=persons, transactions_per_person=per_person, seed=7
    )
    with open(path, "wb") as out:
        writers.write_xml(kommuner, out)
    if changed_to is not None:
        with open(changed_to, "wb") as out:
            writers.write_xml(synthetic.changed(kommuner, share=0.01, seed=8), out)


def bare_parse(path: Path) -> int:
    """lxml iterparse with the service's safety options, Python seeing only what it must."""
    count = 0
    for _, element in etree.iterparse(
        str(path),
        events=("end",),
        tag=("Insats", "Resultat", "Person"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    ):
        if element.tag != "Person":
            count += 1
        else:
            element.clear()
    return count
