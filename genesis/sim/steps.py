"""Steps of a simulated run: the data a run is made of, printed as JSON, shrunk and replayed
(genesis/sim/simulate.py runs them, genesis/sim/adversary.py and genesis/sim/montecarlo.py make some).

A step is a transaction (block index, actor, module, call, arguments) or a probe (module
"probe"): a check that the simulator makes on a throwaway copy of the state before the
step's block (genesis/sim/adversary.py, PROBES), so that a run with probes shrinks and replays
like any other.

Actors: "dev<i>" is devnet dev key i (roles in genesis/devnet.py ROLE_OF; operators are
dev6..dev9), "holder<i>" the key of actor name "sim/holder/<i>" (genesis/localchain.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rwachain.genesis import devnet
from rwachain.genesis.localchain import actor_key
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.args import args_to_json
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.core.errors import InvalidTransaction

STABLE, NATIVE = "rusd", "rwa"
ORIGINATOR, VERIFIER, SERVICER, CUSTODIAN, GUARDIAN = "dev1", "dev2", "dev3", "dev4", "dev5"
OPERATOR_ACTORS = [f"dev{devnet.OPERATOR_ACCOUNT0 + j}" for j in range(devnet.OPERATORS)]
REPORT = ("oracle", "report")
PROBE = "probe"  # the module name of a probe step


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a run: block index (>= 1), actor name, module, call, arguments (msgpack
    form: ints, bytes, str, lists; an oracle report: feed, value, signers, age; a probe:
    ints and strings). Arguments outside a call's bounds are kept as they are: the chain
    must refuse them (the adversary sends such steps on purpose)."""

    block: int
    actor: str
    module: str
    call: str
    args: dict

    def to_json(self) -> dict:
        if (self.module, self.call) == REPORT:
            args = {"feed": self.args["feed"], "value": str(self.args["value"]), "signers": list(self.args["signers"]),
                    "age": self.args.get("age", 0)}
        elif self.module == PROBE:
            args = {k: (str(v) if type(v) is int else v) for k, v in self.args.items()}
        else:
            args = args_to_json(call_specs().get((self.module, self.call), {}), self.args)
        return {"block": self.block, "actor": self.actor, "module": self.module, "call": self.call, "args": args}

    @staticmethod
    def from_json(obj: dict) -> Step:
        """A step from its JSON form; raises ValueError naming what is wrong."""
        try:
            block, actor, module, call, args = (obj[k] for k in ("block", "actor", "module", "call", "args"))
        except (KeyError, TypeError):
            raise ValueError("a step is {block, actor, module, call, args}") from None
        if type(block) is not int or block < 1 or type(args) is not dict:
            raise ValueError(f"step {obj!r}: block is an integer >= 1 and args an object")
        actor_keypair(actor)  # checks the name
        if (module, call) == REPORT:
            try:
                args = {"feed": str(args["feed"]), "value": int(args["value"]),
                        "signers": [int(i) for i in args["signers"]], "age": int(args.get("age", 0))}
            except (KeyError, TypeError, ValueError):
                raise ValueError("an oracle report step has args {feed, value, signers, age}") from None
        elif module == PROBE:
            args = {k: (int(v) if type(v) is str and v.lstrip("-").isdigit() else v) for k, v in args.items()}
        else:
            specs = call_specs().get((module, call))
            if specs is None:
                raise ValueError(f"unknown call {module}.{call}")
            try:  # converted, not checked: the chain refuses what is out of bounds
                args = {k: (specs[k].from_json(k, v) if k in specs else v) for k, v in args.items()}
            except InvalidTransaction as exc:
                raise ValueError(f"{module}.{call}: {exc.message}") from None
        return Step(block, actor, module, call, args)


def weights_of(defaults: dict[str, float], changes: dict[str, float] | None, what: str
               ) -> tuple[list[str], list[float]]:
    """(names, weights) of the draws whose weight is above 0: defaults with changes applied;
    ValueError naming an unknown one (what: "operation", "attack")."""
    w = {**defaults, **(changes or {})}
    unknown = set(w) - set(defaults)
    if unknown:
        raise ValueError(f"unknown {what} {sorted(unknown)[0]!r} (known: {', '.join(defaults)})")
    names = [k for k in defaults if w[k] > 0]
    return names, [w[k] for k in names]


@cache
def call_specs() -> dict[tuple[str, str], dict]:
    """(module, call) -> argument specs, from the chain's module table."""
    return {(m.name, c.name): c.args for m in default_modules() for c in m.calls.values()}


@cache
def actor_keypair(name: str) -> Keypair:
    """The key of an actor: dev<i> (devnet dev key i) or holder<i> (actor "sim/holder/<i>")."""
    for prefix, make in (("dev", Keypair.dev), ("holder", lambda i: actor_key(f"sim/holder/{i}"))):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return make(int(name[len(prefix):]))
    raise ValueError(f"unknown actor {name!r}: dev<i> or holder<i>")


def actor_address(name: str) -> bytes:
    return actor_keypair(name).address


def steps_to_json(steps: list[Step]) -> list[dict]:
    return [s.to_json() for s in steps]


def steps_from_json(objs: list) -> list[Step]:
    if type(objs) is not list:
        raise ValueError("steps: expected a JSON list")
    return [Step.from_json(o) for o in objs]
