"""The shape every module has: calls with typed args and a cost, hooks, genesis, queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rwachain.modules.core.args import Spec
from rwachain.modules.core.context import Ctx


@dataclass(frozen=True, slots=True)
class Call:
    """A transaction entry point: handler(ctx, sender address, args), its arg specs and cost.

    cost is in cost units (docs/protocol.md, "Fees"); the minimum fee is
    (cost + per_byte x tx size) x price. admit(ctx, sender, args), if given, runs in
    check_tx against the latest state (an oracle report's signature is checked there,
    off the block path) and raises the same typed errors the handler would.
    """

    name: str
    handler: Callable[[Ctx, bytes, dict], None]
    args: dict[str, Spec]
    cost: int
    doc: str = ""
    admit: Callable[[Ctx, bytes, dict], None] | None = None  # extra admission checks on state
    # (keys, message, signature) of an aggregate BLS signature the call will check, for a
    # node that verifies it in another process before admission; None: nothing to verify.
    signature_job: Callable[[Ctx, bytes, dict], tuple[list[bytes], bytes, bytes] | None] | None = None
    note_verified: Callable[[list[bytes], bytes, bytes], None] | None = None


@dataclass
class Module:
    """A module: its name, calls, begin/end-block hooks, genesis import/export, queries.

    init_genesis(ctx, section) imports the module's genesis section; export_genesis(reader)
    returns it from state; invariants(reader) returns a list of broken-invariant messages.
    pure_hooks: its begin/end-block hooks are pure functions of the state and block fields
    they read through their context, so a hook whose last turn changed nothing may be
    skipped while those reads hold (modules/core/hookmemo.py; tests/test_hookmemo.py
    holds every module that declares it to that).
    """

    name: str
    calls: dict[str, Call] = field(default_factory=dict)
    begin_block: Callable[[Ctx], None] | None = None
    end_block: Callable[[Ctx], None] | None = None
    init_genesis: Callable[[Ctx, dict], None] | None = None
    export_genesis: Callable[[Ctx], dict] | None = None
    invariants: Callable[[Ctx], list[str]] | None = None
    queries: dict[str, Callable] = field(default_factory=dict)
    pure_hooks: bool = False

    def add_call(self, call: Call) -> None:
        self.calls[call.name] = call
