"""Accounts: argon2 hashes, sign-in checks, the first researcher, the users CLI, role checks."""

import argparse

import pytest

from feedback import accounts
from storage import users
from storage.errors import UserError
from ui import auth


def test_passwords_are_hashed_and_checked(store):
    password = accounts.create_user(store, "ann", "annotator")
    row = users.get_user(store, "ann")
    assert password not in row["password_hash"] and row["password_hash"].startswith("$argon2id$")
    assert accounts.authenticate(store, "ann", password)
    assert not accounts.authenticate(store, "ann", password + "x")
    assert not accounts.authenticate(store, "nobody", password)


def test_disabled_accounts_cannot_sign_in_and_reset_changes_password(store):
    old = accounts.create_user(store, "ann")
    users.set_active(store, "ann", False)
    assert not accounts.authenticate(store, "ann", old)
    users.set_active(store, "ann", True)
    new = accounts.reset_password(store, "ann")
    assert new != old and accounts.authenticate(store, "ann", new) and not accounts.authenticate(store, "ann", old)
    with pytest.raises(UserError, match="already exists"):
        accounts.create_user(store, "ann")
    with pytest.raises(UserError, match="no user"):
        accounts.reset_password(store, "ghost")


def test_first_researcher_is_created_once_with_a_random_password(store):
    first = accounts.ensure_first_researcher(store)
    assert first is not None
    name, password = first
    assert users.get_user(store, name)["role"] == "researcher" and len(password) >= 16
    assert accounts.ensure_first_researcher(store) is None


def test_role_checks(store):
    class Ctx:
        pass

    ctx = Ctx()
    ctx.store = store
    accounts.create_user(store, "ann", "annotator")
    accounts.create_user(store, "res", "researcher")

    class Req:
        def __init__(self, username):
            self.username = username

    assert auth.require(Req("res"), ctx, "annotator")["username"] == "res"
    assert auth.require(Req("ann"), ctx, "annotator")["username"] == "ann"
    import gradio as gr

    with pytest.raises(gr.Error, match="researcher"):
        auth.require(Req("ann"), ctx, "researcher")
    with pytest.raises(gr.Error):
        auth.require(Req(None), ctx, "annotator")
    users.set_active(store, "res", False)
    with pytest.raises(gr.Error, match="disabled"):
        auth.require(Req("res"), ctx, "annotator")


def test_users_cli(settings, store, capsys):
    parser = argparse.ArgumentParser(prog="users")
    accounts.cli(parser)

    def run(*argv):
        args = parser.parse_args(argv)
        args.settings = settings
        assert args.func(args) == 0
        return capsys.readouterr().out

    password = run("add", "alice").strip().rsplit(" ", 1)[-1]
    assert accounts.authenticate(store, "alice", password)
    listed = run("list")
    assert "alice" in listed and "annotator" in listed and "active" in listed
    run("disable", "alice")
    assert "disabled" in run("list") and not accounts.authenticate(store, "alice", password)
    run("enable", "alice")
    new_password = run("reset", "alice").strip().rsplit(" ", 1)[-1]
    assert new_password != password and accounts.authenticate(store, "alice", new_password)
    with pytest.raises(UserError, match="already exists"):
        run("add", "alice")
