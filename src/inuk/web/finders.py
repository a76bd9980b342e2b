"""Static files that come inside Python packages rather than the project.

The charts use plotly.js as the ``plotly`` package on PyPI ships it
(``plotly/package_data/plotly.min.js``), served by the service itself: no CDN,
no npm build, and the version moves with the pinned Python package.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = "stats/plotly.min.js"


def plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class PackageFinder(BaseFinder):
    """Finds the few files taken from installed packages, and nothing else of them."""

    def _files(self) -> dict[str, Path]:
        return {PLOTLY_JS: plotly_js_path()}

    def check(self, **kwargs):
        from django.core.checks import Error

        missing = [name for name, path in self._files().items() if not path.is_file()]
        return [
            Error(
                f"The static file {name} is missing from its package.",
                hint="Reinstall the service: pip install -e . brings plotly.",
                id="inuk.E020",
            )
            for name in missing
        ]

    def find(self, path: str, find_all: bool = False, **kwargs):
        found = self._files().get(path)
        if found is None or not found.is_file():
            return [] if find_all else None
        return [str(found)] if find_all else str(found)

    def list(self, ignore_patterns):
        for name, path in self._files().items():
            storage = FileSystemStorage(location=str(path.parent))
            storage.prefix = str(Path(name).parent)  # type: ignore[attr-defined]
            yield path.name, storage
