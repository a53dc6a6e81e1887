"""``flask tokens …``: API tokens for the JSON APIs, through the same checks and audit log as
the admin page (``accounts.tokens``)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from accounts.errors import AccountError
from accounts.tokens import create_token, list_tokens, revoke_token
from aftercall.cli.common import db, refusals
from store.accounts import ROLES, ApiToken

tokens_cli = AppGroup("tokens", help="API tokens for the JSON APIs.")
ACTOR = "cli"


@tokens_cli.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--agent", default=None, help="The agent an agent token speaks for (role agent only).")
def tokens_create(name, role, agent):
    """Create an API token; it is printed once and stored only as a hash."""
    with refusals(AccountError):
        with db().session() as s:
            _, plain = create_token(s, name, role, actor=ACTOR, agent_id=agent)
    click.echo(plain)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id):
    with db().session() as s:
        token = s.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id}")
        revoke_token(s, token, actor=ACTOR)
    click.echo(f"token {token_id} revoked")


@tokens_cli.command("list")
def tokens_list():
    with db().session() as s:
        for t in list_tokens(s):
            click.echo(f"{t.id:<4} {t.role:<10} {'revoked' if t.revoked else 'active':<8} {t.name}")
