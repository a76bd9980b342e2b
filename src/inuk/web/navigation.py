"""The main menu: each feature adds its entry here, shown only to those who may use it."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str


def nav_items(request: HttpRequest) -> list[NavItem]:
    return []
