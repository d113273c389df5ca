"""Accounts: argon2 password hashes, login checks, the first researcher, and `python app.py users ...`."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from storage import users
from storage.db import Store
from storage.errors import UserError

FIRST_RESEARCHER = "researcher"
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults


def new_password() -> str:
    """A random password (16 URL-safe characters) for a new or reset account."""
    return secrets.token_urlsafe(12)


def create_user(store: Store, username: str, role: str = "annotator", password: str | None = None,
                simulated: bool = False) -> str:
    """Create an account (`simulated`: a simulated annotator's) and return its password (a fresh random one unless given)."""
    password = password or new_password()
    if len(password) < 8:
        raise UserError("password must have at least 8 characters")
    users.add_user(store, username, _hasher.hash(password), role, simulated)
    return password


def reset_password(store: Store, username: str, password: str | None = None) -> str:
    """Give an account a new password (random unless given) and return it."""
    password = password or new_password()
    if len(password) < 8:
        raise UserError("password must have at least 8 characters")
    users.set_password_hash(store, username, _hasher.hash(password))
    return password


def authenticate(store: Store, username: str, password: str) -> bool:
    """True if the account exists, is active and the password matches."""
    user = users.get_user(store, (username or "").strip())
    if user is None or not user["active"]:
        _hasher.hash(password or "")  # same work as a real check, so timing does not reveal which names exist
        return False
    try:
        return _hasher.verify(user["password_hash"], password or "")
    except (VerificationError, InvalidHashError):
        return False


def ensure_first_researcher(store: Store) -> tuple[str, str] | None:
    """Create the first researcher if no researcher exists; returns (username, password) once, else None."""
    if users.count_users(store, role="researcher"):
        return None
    username = FIRST_RESEARCHER
    while users.get_user(store, username) is not None:
        username = f"{FIRST_RESEARCHER}-{secrets.token_hex(2)}"
    return username, create_user(store, username, "researcher")


def cli(parser) -> None:
    """`users add NAME [--role R] | list | disable NAME | enable NAME | reset NAME`."""
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create an account and print its random password once")
    add.add_argument("username", help="the new account's sign-in name")
    add.add_argument("--role", choices=users.ROLES, default="annotator", help="annotator (default) or researcher")
    sub.add_parser("list", help="list accounts with role, state and whether a person or the pilot's simulated annotator")
    for action, text in (("disable", "stop an account from signing in"), ("enable", "let a disabled account sign in again"),
                         ("reset", "give an account a new random password, printed once")):
        sub.add_parser(action, help=text).add_argument("username", help="the account's sign-in name")
    parser.set_defaults(func=run)


def run(args) -> int:
    """Carry out a `users` action against the settings' database."""
    store = Store(args.settings.db_path)
    action = args.users_command
    if action == "add":
        password = create_user(store, args.username, args.role)
        print(f"created {args.role} {args.username!r} with password: {password}")
    elif action == "list":
        for user in users.list_users(store):
            state = "active" if user["active"] else "disabled"
            kind = "simulated" if user["simulated"] else "person"
            print(f"{user['username']:<24} {user['role']:<11} {state:<9} {kind:<10} {user['created_at']}")
    elif action in ("disable", "enable"):
        users.set_active(store, args.username, action == "enable")
        print(f"{args.username}: {action}d")
    elif action == "reset":
        print(f"new password for {args.username!r}: {reset_password(store, args.username)}")
    return 0
