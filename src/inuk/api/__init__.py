"""The REST API under ``/api/v1/`` (``inuk.api.api``): machine transfer and the pages' scripts."""
