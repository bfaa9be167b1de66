"""The staff admin: one blueprint under /admin, one module per area, thin views over
services/. Login, roles and organization scoping live in admin/auth.py."""

from __future__ import annotations

from flask import Blueprint, Flask

admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_admin(app: Flask) -> None:
    from admin import (  # noqa: F401
        access,
        auth,
        bookings,
        crisis,
        dashboard,
        departures,
        desk,
        guides,
        inbox,
        incidents,
        leads,
        reports,
        settings,
        tasks,
    )
    from admin.filters import register_filters

    auth.login_manager.init_app(app)
    register_filters(app)
    app.register_blueprint(admin_bp)


__all__ = ["admin_bp", "init_admin"]
