"""`flask ...` commands. Each area is one click group in its own module."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from cli.api_tokens import api_token_group
    from cli.catalog import catalog_group, demo_group
    from cli.chat import chat_command
    from cli.db import db_group
    from cli.dialogues import dialogues_group
    from cli.jobs import jobs_group
    from cli.nlu import nlu_group
    from cli.users import users_group
    from cli.whatsapp import whatsapp_group

    for group in (
        db_group,
        dialogues_group,
        catalog_group,
        demo_group,
        jobs_group,
        api_token_group,
        nlu_group,
        users_group,
        whatsapp_group,
    ):
        app.cli.add_command(group)
    app.cli.add_command(chat_command)
