"""The admin's menu: one line per area. A new area adds its line here (label, the view it
opens, the endpoint prefixes that light it up, and the ROLE_CAN action it needs, if any);
an entry whose view is not registered is left out."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

from admin.auth import staff
from services import staff as staff_service


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    prefixes: tuple[str, ...]
    needs: str | None = None


NAV: tuple[NavItem, ...] = (
    NavItem("Dashboard", "admin.dashboard", ("admin.dashboard",)),
    NavItem("Inbox", "admin.inbox_list", ("admin.inbox", "admin.conversation", "admin.canned")),
    NavItem("Leads", "admin.lead_board", ("admin.lead",)),
    # The crisis tools (several departures cancelled at once) open from the departures.
    NavItem("Departures", "admin.departure_list", ("admin.departure", "admin.crisis")),
    NavItem("Incidents", "admin.incident_list", ("admin.incident",)),
    NavItem("Tasks", "admin.task_list", ("admin.task",)),
    NavItem("Reports", "admin.reports_page", ("admin.reports",), "reports"),
    # Staff, API tokens and the organization's settings: the owners' pages.
    NavItem(
        "Team",
        "admin.access_page",
        ("admin.access", "admin.staff_", "admin.token_", "admin.settings"),
        "access",
    ),
)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    current: bool


def nav_items() -> list[NavLink]:
    here = request.endpoint or ""
    user = staff()
    return [
        NavLink(item.label, url_for(item.endpoint), here.startswith(item.prefixes))
        for item in NAV
        if item.endpoint in current_app.view_functions
        and (item.needs is None or staff_service.can(user, item.needs))
    ]
