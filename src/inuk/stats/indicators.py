"""Each indicator of SPEC §10, defined once: what it counts, in words for people and the API.

The engine (``inuk.stats.engine``) computes what these texts say; pages and
the API show the texts (``GET /api/v1/stats`` lists them) so that a reader
can check a figure against its definition. Both languages are kept side by
side rather than through the translation catalogue because the API serves
both at once.

Rules shared by every indicator, stated once in ``COMMON_SV``/``COMMON_EN``:
only the current state counts (SPEC §5), an intervention without an end date
is ongoing up to today and never beyond, geography is the kommunkod of the
record, and source is AF for AF's own records and municipal for every other
deliverer's.
"""

from __future__ import annotations

from dataclasses import dataclass

from inuk.format import codelist
from inuk.stats.query import Indicator

#: Days after an intervention's end within which a result still counts (indicator 4).
RESULT_WINDOW_DAYS = 90

COMMON_SV = (
    "Bara det aktuella läget räknas: en borttagen post räknas inte, en ändring ersätter "
    "slutdatumet och en återkallad leverans räknas inte alls. En insats utan slutdatum "
    "pågår till och med i dag, aldrig längre. Geografin är postens kommunkod: en kommun, "
    "ett län, en kommungrupp eller hela riket, där en person räknas en gång även om hen "
    "har insatser i flera kommuner. Källan är Arbetsförmedlingen för Arbetsförmedlingens "
    "egna poster och kommunal för allt annat (även leverantörers och kommunalförbunds). "
    "Åldersgruppen är insatsens startår minus födelseåret (16–19, 20–24, 25–29, 30+; den "
    "som är yngre än 16 räknas i 16–19). En kommun som inte har lämnat någon leverans, "
    "mottagen under eller efter perioden, med poster för kommunkoden saknar uppgift (-) "
    "för den perioden i kommunens källa."
)
COMMON_EN = (
    "Only the current state counts: a removed record does not count, an amendment "
    "replaces the end date and a withdrawn delivery does not count at all. An "
    "intervention without an end date is ongoing up to and including today, never beyond. "
    "The geography is the record's kommunkod: a municipality, a county, a municipality "
    "group or the whole country, where a person counts once even with interventions in "
    "several municipalities. The source is AF for AF's own records and municipal for "
    "everything else (including suppliers' and federations' deliveries). The age group is "
    "the intervention's start year minus the birth year (16–19, 20–24, 25–29, 30+; anyone "
    "younger than 16 counts in 16–19). A municipality that has made no delivery with "
    "records of its kommunkod, received during or after the period, has no data (-) for "
    "that period from its own source."
)


@dataclass(frozen=True)
class Definition:
    """An indicator: its id, names, unit and methods text, in Swedish and English."""

    id: Indicator
    number: int  # as SPEC §10 numbers it
    name_sv: str
    name_en: str
    unit_sv: str
    unit_en: str
    methods_sv: str
    methods_en: str
    #: The breakdown by code is by result code rather than intervention code.
    code_kind: str = codelist.INTERVENTION

    @property
    def slug(self) -> str:
        return str(self.id)


PARTICIPANTS = Definition(
    Indicator.PARTICIPANTS,
    1,
    "Deltagare",
    "Participants",
    "personer",
    "persons",
    "Antal olika personer som har en insats som pågår minst en dag under perioden: "
    "insatsen har startat senast periodens sista dag och har inget slutdatum eller ett "
    "slutdatum tidigast periodens första dag. En person räknas en gång per cell, hur många "
    "insatser, månader eller kommuner hen än har; därför summerar inte månader till kvartal "
    "och inte kommuner till län. Uppdelat på insatskod eller åldersgrupp räknas personen "
    "i varje kategori där hen har en pågående insats.",
    "Number of distinct persons with an intervention ongoing on at least one day of the "
    "period: it started on or before the period's last day and has no end date or an end "
    "date on or after the period's first day. A person counts once per cell however many "
    "interventions, months or municipalities they have; so months do not add up to "
    "quarters, nor municipalities to counties. Broken down by intervention code or age "
    "group, the person counts in every category in which they have an ongoing intervention.",
)

STARTED = Definition(
    Indicator.STARTED,
    2,
    "Påbörjade insatser",
    "Interventions started",
    "insatser",
    "interventions",
    "Antal insatser vars startdatum ligger i perioden. Varje insats räknas, även flera för "
    "samma person.",
    "Number of interventions whose start date lies in the period. Every intervention "
    "counts, several of the same person too.",
)

ENDED = Definition(
    Indicator.ENDED,
    3,
    "Avslutade insatser",
    "Interventions ended",
    "insatser",
    "interventions",
    "Antal insatser vars slutdatum ligger i perioden, och medianen av deras längd i dagar. "
    "Längden räknar både start- och slutdagen (slutdatum − startdatum + 1): en insats som "
    "börjar och slutar samma dag varar en dag. Insatser utan slutdatum är inte avslutade.",
    "Number of interventions whose end date lies in the period, and the median of their "
    "lengths in days. The length counts both the first and the last day (end date − start "
    "date + 1): an intervention that starts and ends on the same day lasts one day. "
    "Interventions without an end date have not ended.",
)

RESULTS = Definition(
    Indicator.RESULTS,
    4,
    "Resultat efter avslutad insats",
    "Results after an ended intervention",
    "personer",
    "persons",
    "Av de personer som har en insats som avslutats i perioden (basen): antal och andel "
    "som har ett resultat med startdatum från insatsens startdatum till och med "
    f"{RESULT_WINDOW_DAYS} dagar efter dess slutdatum. Resultatet kan vara rapporterat av "
    "vilken kommun eller av Arbetsförmedlingen som helst. Uppdelat på resultatkod räknas "
    "personen under varje kod hen har ett sådant resultat med, och basen är densamma för "
    "alla koder; totalen räknar personer med minst ett resultat. Geografi, källa och "
    "åldersgrupp är den avslutade insatsens.",
    "Of the persons with an intervention that ended in the period (the base): the number "
    "and share that have a result starting from the intervention's start date up to and "
    f"including {RESULT_WINDOW_DAYS} days after its end date. The result may have been "
    "reported by any municipality or by AF. Broken down by result code, the person counts "
    "under every code they have such a result with, and the base is the same for every "
    "code; the total counts persons with at least one result. Geography, source and age "
    "group are those of the ended intervention.",
    code_kind=codelist.RESULT,
)

COLLABORATION = Definition(
    Indicator.COLLABORATION,
    5,
    "Samverkan",
    "Collaboration",
    "personer",
    "persons",
    "Antal olika personer som under perioden, inom geografin, har både en kommunal insats "
    "och en insats hos Arbetsförmedlingen som pågår minst en dag av perioden (inte "
    "nödvändigtvis samma dagar). Uppdelat på insatskod eller åldersgrupp räknas personen "
    "i varje kategori där hen har en pågående insats. Uppdelning och urval efter källa "
    "saknar mening här (.).",
    "Number of distinct persons who, within the geography, have both a municipal and an "
    "AF intervention ongoing on at least one day of the period (not necessarily the same "
    "days). Broken down by intervention code or age group, the person counts in every "
    "category in which they have an ongoing intervention. A breakdown or selection by "
    "source has no meaning here (.).",
)

INDICATORS: tuple[Definition, ...] = (PARTICIPANTS, STARTED, ENDED, RESULTS, COLLABORATION)

BY_ID: dict[Indicator, Definition] = {d.id: d for d in INDICATORS}


def definition(indicator: Indicator | str) -> Definition:
    return BY_ID[Indicator(indicator)]
