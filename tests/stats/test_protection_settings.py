"""The protection settings: a mistake stops the service at start, naming the variable."""

import os
import subprocess
import sys

import pytest


def _settings_with(tmp_path, **env):
    environment = {**os.environ, "INUK_DATA_DIR": str(tmp_path), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-c", "import inuk.settings"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow  # the settings read in a Python process of their own
def test_an_unknown_protection_method_stops_the_service_naming_the_choices(tmp_path):
    result = _settings_with(tmp_path, INUK_STATS_PROTECTION="rounding")
    assert result.returncode != 0
    assert "INUK_STATS_PROTECTION must be one of cell-key, threshold, not 'rounding'" in (
        result.stderr
    )


@pytest.mark.slow  # the settings read in a Python process of their own
def test_a_threshold_below_one_stops_the_service(tmp_path):
    result = _settings_with(tmp_path, INUK_STATS_THRESHOLD="0")
    assert result.returncode != 0
    assert "INUK_STATS_THRESHOLD must be at least 1" in result.stderr


@pytest.mark.slow  # the settings read in a Python process of their own
def test_the_protection_method_is_read_whatever_its_case(tmp_path):
    result = _settings_with(tmp_path, INUK_STATS_PROTECTION=" Threshold ")
    assert result.returncode == 0, result.stderr
