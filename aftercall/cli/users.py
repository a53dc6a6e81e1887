"""``flask users …``: create the first admin and other dashboard users."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from accounts.errors import AccountError
from accounts.users import create_user, find_user, update_user
from aftercall.cli.common import db, refusals
from store.accounts import ROLES
from store.users import LOCALES, User

users_cli = AppGroup("users", help="Dashboard users (supervisors, HR, admins).")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _create(email: str, role: str, name: str, locale: str, password_stdin: bool) -> None:
    password = _password(password_stdin)
    with refusals(AccountError):
        with db().session() as s:
            user = create_user(s, email, password, role, actor="cli", name=name, locale=locale)
            click.echo(f"created {role} {user.email}")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="")
@click.option("--locale", type=click.Choice(LOCALES), default="en", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create_admin(email, name, locale, password_stdin):
    """Create an admin (the first one, or another); prompts for the password."""
    _create(email, "admin", name, locale, password_stdin)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option("--locale", type=click.Choice(LOCALES), default="en", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create(email, role, name, locale, password_stdin):
    """Create a dashboard user with ROLE; prompts for the password."""
    _create(email, role, name, locale, password_stdin)


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def set_password(email, password_stdin):
    """Replace a user's password (ends their open sessions)."""
    password = _password(password_stdin)
    with refusals(AccountError):
        with db().session() as s:
            user = find_user(s, email)
            if user is None:
                raise click.ClickException(f"no user {email}")
            update_user(s, user, actor="cli", password=password)
    click.echo(f"password of {email} changed")


@users_cli.command("list")
def list_users():
    with db().session() as s:
        for u in s.scalars(select(User).order_by(User.email)):
            click.echo(f"{u.id:<4} {u.role:<10} {'active' if u.active else 'disabled':<8} {u.locale:<3} {u.email}")
