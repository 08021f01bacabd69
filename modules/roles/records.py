"""The roles' state records as frozen, slotted dataclasses (the keys: modules/roles/keeper.py)."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("originator", "verifier", "servicer", "custodian", "operator", "guardian")
"""The roles that exist (MECHANISM.md, Roles), in the order every listing uses."""
PREFIX = b"roles/"
"""Prefix of every roles key."""


@dataclass(frozen=True, slots=True)
class Grant:
    """One role held by one account: the key roles/<role>\\x00<account 20B>, stored as true."""

    role: str
    account: bytes

    def key(self) -> bytes:
        return PREFIX + self.role.encode() + b"\x00" + self.account

    @classmethod
    def from_key(cls, key: bytes) -> Grant | None:
        """The grant a state key records, or None if it is no well-formed roles key."""
        role, sep, account = key[len(PREFIX):].partition(b"\x00")
        if not key.startswith(PREFIX) or not sep or len(account) != 20:
            return None
        try:
            return cls(role.decode(), account)
        except UnicodeDecodeError:
            return None
