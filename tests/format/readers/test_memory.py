"""Reading a large delivery takes memory that does not grow with the file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc

import pytest

from inuk.format import synthetic
from inuk.format.readers import FORMATS
from inuk.format.writers import write

pytestmark = pytest.mark.slow

TRANSACTIONS = 100_000


@pytest.fixture(scope="module")
def large_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    kommuner = synthetic.delivery(synthetic.municipality("0180"), persons=TRANSACTIONS // 5, seed=1)
    paths = {}
    for format in FORMATS:
        paths[format] = folder / f"large.{format}"
        with open(paths[format], "wb") as out:
            write(format, kommuner, out)
    return paths


@pytest.mark.parametrize("format", ["xml", "csv", "json"])
def test_reading_keeps_python_memory_far_below_the_file_size(large_files, format):
    path = large_files[format]
    tracemalloc.start()
    try:
        with open(path, "rb") as stream:
            count = sum(1 for _ in FORMATS[format](stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == TRANSACTIONS
    assert peak < path.stat().st_size / 20
    assert peak < 5_000_000


@pytest.mark.parametrize("format", ["xml", "csv", "json"])
def test_the_whole_process_stays_small_including_the_xml_parser(large_files, format):
    # tracemalloc does not see libxml2's memory: measure the process in a fresh one.
    script = textwrap.dedent(f"""
        import resource
        from inuk.format.readers import FORMATS
        with open({str(large_files[format])!r}, "rb") as stream:
            base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            count = sum(1 for _ in FORMATS[{format!r}](stream))
        print(count, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
    """)
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    count, grown_mb = map(int, output.split())
    assert count == TRANSACTIONS
    assert grown_mb < 30
