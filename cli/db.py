"""`flask db upgrade|check|revision`: Alembic, pointed at the app's database."""

from __future__ import annotations

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask.cli import with_appcontext

from config import PROJECT_ROOT
from extensions import app_config


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _cfg() -> AlembicConfig:
    return alembic_config(app_config().DATABASE_URL)


@click.group("db", help="Database schema migrations (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade(revision: str) -> None:
    command.upgrade(_cfg(), revision)


@db_group.command("check", help="Fail if the models and the migrations disagree.")
@with_appcontext
def check() -> None:
    command.check(_cfg())


@db_group.command("revision", help="Autogenerate a migration from model changes.")
@click.option("-m", "--message", required=True)
@with_appcontext
def revision(message: str) -> None:
    command.revision(_cfg(), message=message, autogenerate=True)
