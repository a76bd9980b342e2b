"""The main menu: each feature adds its entry here, shown only to those who may use it."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    url: str


def nav_items(request: HttpRequest) -> list[NavItem]:
    items: list[NavItem] = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        from inuk.accounts.scoping import may_deliver, may_list_deliveries, statistics_access

        items.append(NavItem("start", _("Overview"), reverse("web:start")))
        if statistics_access(user) is not None:
            items.append(NavItem("statistics", _("Statistics"), reverse("stats:explorer")))

        if may_deliver(user):
            items.append(NavItem("upload", _("Send a delivery"), reverse("intake:upload")))
        if may_list_deliveries(user):
            items.append(NavItem("deliveries", _("Deliveries"), reverse("intake:deliveries")))
        items.append(NavItem("agreements", _("Agreements"), reverse("organisations:agreements")))
        from inuk.accounts.scoping import may_identify

        if may_identify(user):
            items.append(NavItem("identity", _("Identity look-up"), reverse("identity:lookup")))
            items.append(NavItem("identity_link", _("Changed number"), reverse("identity:link")))
            items.append(
                NavItem("identity_extract", _("Register extract"), reverse("identity:extract"))
            )
    if user is not None and user.is_authenticated:
        from inuk.accounts.scoping import managed_organisations

        if managed_organisations(user).exists():
            items.append(NavItem("users", _("Users"), reverse("accounts:users")))
            items.append(NavItem("tokens", _("API tokens"), reverse("accounts:tokens")))
        items.append(NavItem("profile", _("My account"), reverse("accounts:profile")))
    return items
