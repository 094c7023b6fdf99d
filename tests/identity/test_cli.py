"""`safeslot account …`: create (TOTP secret shown once), list, roles, unlock."""

from __future__ import annotations

from typer.testing import CliRunner

from safeslot.cli.main import app
from safeslot.db import build_engine, build_sessionmaker, transaction
from safeslot.identity import repository
from tests.conftest import NOW, office_database

runner = CliRunner()


def test_account_commands(cli_url: str) -> None:
    engine = office_database(cli_url, NOW.date())
    password = "correct horse battery staple\ncorrect horse battery staple\n"
    r = runner.invoke(app, ["account", "create", "desk-a", "--name", "Desk Example", "--role", "clerk",
                            "--office", "central"])
    assert r.exit_code == 1 and "address" in r.output  # someone else's account: only by invitation
    r = runner.invoke(app, ["account", "create", "desk-a", "--name", "Desk Example", "--role", "clerk",
                            "--office", "central", "--email", "desk-a@example.test"])
    assert r.exit_code == 0, r.output
    assert "invitation" in r.output and "TOTP" not in r.output and "otpauth://" not in r.output
    r = runner.invoke(app, ["account", "create", "desk-b", "--name", "Desk Example", "--role", "clerk"],
                      input=password)
    assert r.exit_code == 1 and "office" in r.output  # a clerk needs an office
    assert runner.invoke(app, ["account", "roles", "desk-a", "--role", "clerk", "--role", "supervisor"]).exit_code == 0
    assert runner.invoke(app, ["account", "unlock", "desk-a"]).exit_code == 0
    linked = runner.invoke(app, ["account", "link-oidc", "desk-a", "idp-user-1"])
    assert linked.exit_code == 0 and "linked" in linked.output
    assert runner.invoke(app, ["account", "link-oidc", "nobody", "idp-user-2"]).exit_code == 1
    listed = runner.invoke(app, ["account", "list"])
    assert "desk-a" in listed.output and "clerk supervisor" in listed.output
    with transaction(build_sessionmaker(engine)) as s:
        account = repository.account_by_username(s, "desk-a")
        assert account is not None and account.password_hash.startswith("$argon2id$")
        assert account.oidc_subject == "idp-user-1"
        assert repository.account_by_username(s, "desk-b") is None
    engine.dispose()


def test_the_command_line_makes_only_the_first_two_administrators(cli_url: str) -> None:
    """The operator bootstraps two administrators (logged); every other privileged role is a
    proposal a second person approves, never a command."""
    password = "correct horse battery staple\ncorrect horse battery staple\n"
    for name in ("admin-a", "admin-b"):
        r = runner.invoke(app, ["account", "create", name, "--name", "Test Person A", "--role", "admin"],
                          input=password)
        assert r.exit_code == 0, r.output
    third = runner.invoke(app, ["account", "create", "admin-c", "--name", "Test Person C", "--role", "admin"],
                          input=password)
    assert third.exit_code == 1 and "Two administrators exist" in third.output
    counsel = runner.invoke(app, ["account", "create", "counsel-a", "--name", "Test Person D", "--role", "counsel"],
                            input=password)
    assert counsel.exit_code == 1 and "approved" in counsel.output
    r = runner.invoke(app, ["account", "roles", "admin-a", "--role", "admin", "--role", "auditor"])
    assert r.exit_code == 1
    engine = build_engine(cli_url)
    with transaction(build_sessionmaker(engine)) as s:
        assert repository.account_by_username(s, "admin-c") is None
        assert repository.account_by_username(s, "counsel-a") is None
        from sqlalchemy import select

        from safeslot.identity.models import PrivilegedEvent
        assert [e.event for e in s.scalars(select(PrivilegedEvent))] == ["identity.admin_bootstrapped"] * 2
    engine.dispose()
