"""Statistics: the indicators of SPEC §10, their rollups, and disclosure control.

The way through, for every page, API answer and export:

1. ``inuk.stats.query.Query``: what is asked (indicator, period, geographies,
   breakdowns, source), parsed and checked from the caller's parameters;
2. ``inuk.stats.engine.compute(query) -> Table``: the true figures, each cell
   with its cell key, from the rollups where they cover the question and
   straight from the current state otherwise;
3. ``inuk.stats.disclosure.protect(table, viewer) -> Published``: the one
   function that turns true figures into what the viewer may see.

Nothing leaves the app but a ``Published``.
"""
