"""The delivery format, with no Django: what a delivery file is and what makes it valid.

Records (``records``), the error catalogue (``errors``), personnummer and
organisation numbers (``identifiers``, ``masking``), the code lists and the
register of municipalities as shipped (``codelist``, ``municipalities``), one
streaming reader per format (``readers``), writers (``writers``,
``synthetic``, ``hostile``), the rules (``validation``) and the report
(``report``). The offline validator (``inuk validate``), ``inuk submit`` and
the service all use it; it imports nothing else of INUK, so it runs where
Django is not configured.
"""
