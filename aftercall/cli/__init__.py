"""``flask …`` commands, one module per command group; each calls the same use cases as the
dashboard and the JSON API."""
from __future__ import annotations

from flask import Flask

from aftercall.cli.agents import agents_cli
from aftercall.cli.callbacks import callbacks_cli
from aftercall.cli.callers import callers_cli
from aftercall.cli.db import db_cli
from aftercall.cli.demo import demo_agents_command, demo_command
from aftercall.cli.disputes import disputes_cli
from aftercall.cli.export import export_cli
from aftercall.cli.flags import flags_cli
from aftercall.cli.scorecards import scorecards_cli
from aftercall.cli.sla import sla_command
from aftercall.cli.simulate import simulate_command
from aftercall.cli.spool import spool_cli
from aftercall.cli.tokens import tokens_cli
from aftercall.cli.users import users_cli
from aftercall.cli.worker import worker_command

COMMANDS = (db_cli, agents_cli, tokens_cli, users_cli, export_cli, worker_command, flags_cli, scorecards_cli,
            sla_command, demo_command, demo_agents_command, simulate_command, callbacks_cli, callers_cli,
            spool_cli, disputes_cli)


def register(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
