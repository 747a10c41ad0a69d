"""Accounts: setup runs once, login refuses quietly, disabled people and old sessions are out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from botschaft.domain.accounts import (
    EmailTaken,
    LastOwner,
    LoginFailed,
    SetupDone,
    SetupLinkInvalid,
    WeakPassword,
)
from botschaft.domain.roles import Role
from botschaft.services import accounts
from botschaft.services.app_sessions import (
    IDLE,
    LONGEST,
    end_session,
    remove_expired_sessions,
    resolve_session,
    start_session,
)
from botschaft.services.audit import list_audit
from botschaft.services.clock import ManualClock
from botschaft.services.context import Context
from botschaft.storage.accounts import User

PASSWORD = "correct horse battery staple"


def _owner(ctx: Context) -> accounts.UserView:
    return accounts.setup_owner(ctx, email="olga@example.org", display_name="Olga",
                                password=PASSWORD)


def test_setup_creates_the_owner_once(ctx: Context) -> None:
    owner = _owner(ctx)
    assert owner.role is Role.OWNER and owner.has_password
    with pytest.raises(SetupDone):
        accounts.setup_owner(ctx, email="mallory@example.org", display_name="M",
                             password=PASSWORD)
    assert [u.email for u in accounts.list_users(ctx)] == ["olga@example.org"]
    assert list_audit(ctx)[0].action == "setup.owner_created"


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaaaaaa", "olga@example.org"])
def test_setup_refuses_a_weak_password_and_creates_nobody(ctx: Context, password: str) -> None:
    with pytest.raises(WeakPassword):
        accounts.setup_owner(ctx, email="olga@example.org", display_name="Olga",
                             password=password)
    assert accounts.list_users(ctx) == []


def test_the_password_is_stored_as_an_argon2id_hash(ctx: Context) -> None:
    _owner(ctx)
    with ctx.db.read() as session:
        stored = session.query(User.password_hash).scalar()
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_login_accepts_the_right_password_with_any_case_of_the_address(ctx: Context) -> None:
    owner = _owner(ctx)
    assert accounts.authenticate(ctx, " Olga@Example.ORG ", PASSWORD).id == owner.id


@pytest.mark.parametrize(("email", "password"), [
    ("olga@example.org", "wrong password, quite long"),
    ("nobody@example.org", PASSWORD),
    ("not an address", PASSWORD),
])
def test_login_refuses_with_one_message_for_every_reason(
    ctx: Context, email: str, password: str,
) -> None:
    _owner(ctx)
    with pytest.raises(LoginFailed) as refused:
        accounts.authenticate(ctx, email, password)
    assert refused.value.message == "The e-mail address or the password is wrong."


def test_a_disabled_person_cannot_log_in_and_their_sessions_end(ctx: Context) -> None:
    owner = _owner(ctx)
    agent = accounts.create_user(ctx, owner.id, email="anna@example.org",
                                 display_name="Anna", role=Role.AGENT, password=PASSWORD).user
    issued = start_session(ctx, agent)
    accounts.disable_user(ctx, owner.id, agent.id)
    assert resolve_session(ctx, issued.token) is None
    with pytest.raises(LoginFailed):
        accounts.authenticate(ctx, "anna@example.org", PASSWORD)
    assert list_audit(ctx)[0].action == "user.disabled"


def test_the_last_owner_can_be_neither_demoted_nor_disabled(ctx: Context) -> None:
    owner = _owner(ctx)
    with pytest.raises(LastOwner):
        accounts.change_role(ctx, owner.id, owner.id, Role.AGENT)
    with pytest.raises(LastOwner):
        accounts.disable_user(ctx, owner.id, owner.id)


def test_an_address_has_one_account(ctx: Context) -> None:
    owner = _owner(ctx)
    with pytest.raises(EmailTaken):
        accounts.create_user(ctx, owner.id, email="OLGA@example.org", display_name="Olga 2",
                             role=Role.AGENT, password=PASSWORD)


def test_a_session_ends_after_twelve_idle_hours_and_after_two_weeks_in_any_case(
    ctx: Context, clock: ManualClock,
) -> None:
    owner = _owner(ctx)
    idle = start_session(ctx, owner)
    clock.advance(IDLE - timedelta(minutes=1))
    assert resolve_session(ctx, idle.token) is not None
    clock.advance(IDLE - timedelta(minutes=1))  # used a minute before the idle end: still on
    assert resolve_session(ctx, idle.token) is not None
    clock.advance(IDLE)
    assert resolve_session(ctx, idle.token) is None

    busy = start_session(ctx, owner)
    for _ in range(int(LONGEST / timedelta(hours=6)) - 1):
        clock.advance(timedelta(hours=6))
        assert resolve_session(ctx, busy.token) is not None
    clock.advance(timedelta(hours=6))
    assert resolve_session(ctx, busy.token) is None
    assert remove_expired_sessions(ctx) == 2


def test_logout_ends_the_session(ctx: Context) -> None:
    issued = start_session(ctx, _owner(ctx))
    end_session(ctx, issued.token)
    assert resolve_session(ctx, issued.token) is None


def test_each_session_has_its_own_csrf_secret(ctx: Context) -> None:
    owner = _owner(ctx)
    first, second = start_session(ctx, owner), start_session(ctx, owner)
    assert first.csrf_secret != second.csrf_secret
    found = resolve_session(ctx, first.token)
    assert found is not None and found.csrf_secret == first.csrf_secret


def test_a_setup_link_sets_the_first_password_once_and_expires(
    ctx: Context, clock: ManualClock,
) -> None:
    owner = _owner(ctx)
    created = accounts.create_user(ctx, owner.id, email="anna@example.org",
                                   display_name="Anna", role=Role.AGENT)
    stale = accounts.create_user(ctx, owner.id, email="ben@example.org",
                                 display_name="Ben", role=Role.AGENT)
    assert created.setup_token is not None and stale.setup_token is not None
    with pytest.raises(LoginFailed):
        accounts.authenticate(ctx, "anna@example.org", "")
    accounts.complete_setup_link(ctx, created.setup_token, PASSWORD)
    assert accounts.authenticate(ctx, "anna@example.org", PASSWORD).id == created.user.id
    with pytest.raises(SetupLinkInvalid):
        accounts.complete_setup_link(ctx, created.setup_token, PASSWORD)
    clock.advance(accounts.SETUP_LINK_VALID)
    with pytest.raises(SetupLinkInvalid):
        accounts.user_for_setup_link(ctx, stale.setup_token)


def test_a_profile_keeps_the_signature_and_the_language(ctx: Context) -> None:
    owner = _owner(ctx)
    saved = accounts.update_profile(ctx, owner.id, display_name="Olga  S.", language="en",
                                    signature="  Olga  ")
    assert (saved.display_name, saved.language, saved.signature) == ("Olga S.", "en", "Olga")
    cleared = accounts.update_profile(ctx, owner.id, display_name="Olga S.", language="fr",
                                      signature="")
    assert (cleared.language, cleared.signature) == (None, None)


def test_a_new_setup_link_replaces_a_forgotten_password_once_used(ctx: Context) -> None:
    owner = _owner(ctx)
    agent = accounts.create_user(ctx, owner.id, email="anna@example.org", display_name="Anna",
                                 role=Role.AGENT, password=PASSWORD).user
    first = accounts.issue_setup_link(ctx, owner.id, agent.id)
    second = accounts.issue_setup_link(ctx, owner.id, agent.id)
    assert accounts.authenticate(ctx, "anna@example.org", PASSWORD).id == agent.id
    with pytest.raises(SetupLinkInvalid):
        accounts.user_for_setup_link(ctx, first)
    accounts.complete_setup_link(ctx, second, "a brand new passphrase")
    with pytest.raises(LoginFailed):
        accounts.authenticate(ctx, "anna@example.org", PASSWORD)
