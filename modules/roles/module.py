"""The roles module (MECHANISM.md, Roles): who may do which privileged call. It has no
calls of its own; the Module declares its genesis section (modules/roles/genesis.py),
invariants and RPC queries. Other modules reach the registry through the names below
(keeper.py holds the state)."""

from __future__ import annotations

from rwachain.modules.core.registry import Module
from rwachain.modules.roles import genesis, queries
from rwachain.modules.roles.invariants import invariants
from rwachain.modules.roles.keeper import grant, has_role, holders, require, revoke, roles_of
from rwachain.modules.roles.records import PREFIX, ROLES

NAME = "roles"
__all__ = ["NAME", "PREFIX", "ROLES", "grant", "has_role", "holders", "module", "require", "revoke", "roles_of"]


def module() -> Module:
    return Module(NAME, init_genesis=genesis.init_genesis, export_genesis=genesis.export_genesis,
                  invariants=invariants, genesis_json=genesis.SECTION, queries=queries.QUERIES)
