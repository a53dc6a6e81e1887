"""``flask users …``: create the first admin and other dashboard users."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from accounts.errors import AccountError
from accounts.invitations import invite
from accounts.users import create_user, find_user, update_user
from aftercall.cli.common import db, refusals
from store.accounts import ROLES
from store.users import LOCALES, User

users_cli = AppGroup("users", help="Dashboard users (supervisors, HR, admins, agents).")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _create(email: str, role: str, name: str, locale: str, password_stdin: bool, agent: str | None = None,
            invite_link: bool = False) -> None:
    password = None if invite_link else _password(password_stdin)
    with refusals(AccountError):
        with db().session() as s:
            user = create_user(s, email, password, role, actor="cli", name=name, locale=locale, agent_id=agent)
            click.echo(f"created {role} {user.email}")
            if invite_link:
                _echo_link(s, user)


def _echo_link(s, user: User) -> None:
    """A one-time link for the user to set their password (shown once, never stored)."""
    settings = current_app.config["SETTINGS"]
    plain = invite(s, user, actor="cli", hours=settings.invitation_hours)
    click.echo(f"{settings.public_base_url or 'http://127.0.0.1:5000'}/invite/{plain}"
               f"  (valid {settings.invitation_hours} h, once)")


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
@click.option("--agent", default=None, help="The agent an agent user is (role agent only).")
@click.option("--invite", "invite_link", is_flag=True, help="No password: print a one-time link that sets one.")
def create(email, role, name, locale, password_stdin, agent, invite_link):
    """Create a dashboard user with ROLE; prompts for the password (or, with --invite, prints a link)."""
    _create(email, role, name, locale, password_stdin, agent, invite_link)


@users_cli.command("invite")
@click.argument("email")
def invite_command(email):
    """A new one-time link for EMAIL to set their password (earlier links stop working)."""
    with db().session() as s:
        user = find_user(s, email)
        if user is None:
            raise click.ClickException(f"no user {email}")
        _echo_link(s, user)


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
            click.echo(f"{u.id:<4} {u.role:<10} {'active' if u.active else 'disabled':<8} {u.locale:<3} {u.email}"
                       + (f"  agent {u.agent_id}" if u.agent_id else ""))
