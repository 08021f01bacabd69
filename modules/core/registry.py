"""The shape every module has: calls with typed args and a cost, hooks, genesis, invariants,
queries, simulation operations and the callbacks it offers and needs. Everything that
lists modules (genesis sections, RPC methods, OpenRPC, the simulator, invariants) reads
the App's Module objects (docs/adding-a-module.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rwachain.modules.core.args import Spec
from rwachain.modules.core.context import Ctx
from rwachain.modules.core.governed import Governed
from rwachain.modules.core.queries import Query
from rwachain.modules.core.records import Record, typed_genesis
from rwachain.modules.core.sections import Section
from rwachain.modules.core.simops import SimOp
from rwachain.modules.core.wiring import Offer


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
    # (keys, message, signature) of an aggregate BLS signature the call will check (through
    # modules/core/verdicts.py), for a node that verifies it in another process before
    # admission and notes the verdict in the App's signature cache; None: nothing to verify.
    signature_job: Callable[[Ctx, bytes, dict], tuple[list[bytes], bytes, bytes] | None] | None = None


@dataclass
class Module:
    """A module: its name, calls, begin/end-block hooks, genesis import/export, queries.

    init_genesis(ctx, section) imports the module's genesis section; export_genesis(reader)
    returns it from state; genesis_records, when given, types that section (modules/core/
    records.py): the genesis file's "<name>" field is validated, imported and exported
    through them; genesis_json, when given instead, is the section's own JSON form (its
    check and export, modules/core/sections.py). invariants(reader) returns a list of broken-invariant messages.
    queries: its RPC read methods with their schemas (modules/core/queries.py); sim_ops:
    its random operations, sim_block: the steps it adds at the start of every simulated
    block (modules/core/simops.py). offers: the callbacks it offers other
    modules' slots; needs: the slots it cannot work without (modules/core/wiring.py; the
    App collects both, per App).
    pure_hooks: its begin/end-block hooks are pure functions of the state and block fields
    they read through their context, so a hook whose last turn changed nothing may be
    skipped while those reads hold (modules/core/hookmemo.py; tests/test_hookmemo.py
    holds every module that declares it to that).
    params: its parameters governance changes (modules/core/governed.py); pausable: its
    place among the modules the guardian may pause, None if it may not be paused. accounts:
    the module accounts it owns, (name, place among the chain's module accounts); they
    exist from genesis (modules/core/wiring.py: the App's wiring lists them).
    """

    name: str
    calls: dict[str, Call] = field(default_factory=dict)
    begin_block: Callable[[Ctx], None] | None = None
    end_block: Callable[[Ctx], None] | None = None
    init_genesis: Callable[[Ctx, dict], None] | None = None
    export_genesis: Callable[[Ctx], dict] | None = None
    invariants: Callable[[Ctx], list[str]] | None = None
    genesis_records: tuple[Record, ...] = ()
    genesis_json: Section | None = None
    queries: tuple[Query, ...] = ()
    sim_ops: tuple[SimOp, ...] = ()
    sim_block: Callable[[Any, Ctx, Any, int, list[str]], list[tuple[str, str, str, dict]]] | None = None
    offers: tuple[Offer, ...] = ()
    needs: tuple[str, ...] = ()
    pure_hooks: bool = False
    params: Governed | None = None
    pausable: int | None = None
    accounts: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        """A typed section without its own import and export gets both from its records
        (over the records' own prefixes)."""
        if self.genesis_records and self.init_genesis is None and self.export_genesis is None:
            owned = tuple(dict.fromkeys(r.prefix for r in self.genesis_records))
            self.init_genesis, self.export_genesis = typed_genesis(self.name, self.genesis_records, owned)

    def add_call(self, call: Call) -> None:
        self.calls[call.name] = call
