"""Accounts (in the data folder, passwords as argon2 hashes), sign-in and the two roles.

On loopback nobody signs in: the OS user acts, as on the command line. On any other address every
page but sign-in needs a signed-in user; 查看 may look, 管理 may also correct and send.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("查看", "管理")
VIEWER, MANAGER = ROLES
USERS_FILE = "users.json"
_NAME = re.compile(r"^[\w\u4e00-\u9fff.@-]{1,32}$")
_hasher = PasswordHasher()
# Verifying against this keeps a wrong user name as slow as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))


class AccountError(Exception):
    """An account cannot be created or read; one Chinese line."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def can_edit(self) -> bool:
        return self.role == MANAGER


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sign_in_required(config) -> bool:
    return config.console.sign_in == "always" or not is_loopback(config.console.host)


def _path(data_dir: Path) -> Path:
    return data_dir / USERS_FILE


def load_users(data_dir: Path) -> dict[str, dict]:
    path = _path(data_dir)
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))["users"]
    except (OSError, ValueError, KeyError) as exc:
        raise AccountError(f"账号文件 {path} 无法读取：{exc}") from exc


def add_user(data_dir: Path, name: str, password: str, role: str) -> bool:
    """Create or replace an account; True when it replaced one."""
    if not _NAME.match(name):
        raise AccountError("用户名只能由 1–32 个汉字、字母、数字或 . @ _ - 组成")
    if role not in ROLES:
        raise AccountError(f"角色只能是 {'、'.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("密码至少 8 位")
    users = load_users(data_dir)
    existed = name in users
    users[name] = {"role": role, "hash": _hasher.hash(password)}
    data_dir.mkdir(parents=True, exist_ok=True)
    path = _path(data_dir)
    _write_private(path, json.dumps({"users": users}, ensure_ascii=False, indent=1))
    return existed


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (hashes, the cookie key), atomically."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)


def check_password(data_dir: Path, name: str, password: str) -> User | None:
    entry = load_users(data_dir).get(name)
    try:
        _hasher.verify(entry["hash"] if entry else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return User(name, entry["role"]) if entry else None


def secret_key(data_dir: Path) -> str:
    """The key that signs session cookies: made once, kept in the data folder."""
    path = data_dir / ".console-secret"
    if not path.is_file():
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip()


def requires(role: str):
    """A route decorator: the current user must hold ``role`` (管理 implies 查看)."""
    from flask import abort, g

    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            user = g.get("user")
            if user is None:
                abort(401)
            if role == MANAGER and not user.can_edit:
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap
