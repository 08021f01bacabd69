"""Seeded random simulation: weighted random operations of every module on an in-process
chain (genesis/localchain.py, a real LevelDB store), with every invariant checked after
every block.

A run is a list of steps. A step is data: the block index it goes into (block i runs at
genesis time + i x block time), the actor that signs it, the module, the call and its
arguments; so a run can be printed as JSON, shrunk (genesis/sim/shrink.py) and replayed. An
oracle report step carries only the feed, the value, the signing operators and the age
of the observation: round, epoch, observation time and the aggregate BLS signature are
made when the step runs, so a shrunk list of reports still signs correctly.

Actors: "dev<i>" is devnet dev key i (roles in genesis/devnet.py ROLE_OF; operators are
dev6..dev9), "holder<i>" the key of actor name "sim/holder/<i>" (genesis/localchain.py),
funded at genesis. Invalid operations are generated on purpose (wrong role, too large an
amount, a price outside the band, a report without quorum...) and must be refused cleanly;
what must never happen is a broken invariant, an exception out of the block, or a fault the
block contained (a handler_fault receipt or a hook.fault event).

Invariants after every block: each module's `invariants(ctx)` (the bank's: supply = sum of
balances for every token) and the chain-wide CHAIN_CHECKS (stable supply within what was
minted, the recorded collateral ratio equals its definition, oracle values within their
bounds).
Randomness comes only from random.Random(seed); everything sent to the chain is ints,
bytes and strings, so a seed gives the same run, byte for byte.
"""

from __future__ import annotations

import time as _clock
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from random import Random

from rwachain.genesis import devnet, mechanism, units
from rwachain.genesis.checks import (  # noqa: F401 (the checks are this module's names too)
    CHAIN_CHECKS,
    cr_check,
    oracle_bounds_check,
    stable_supply_check,
)
from rwachain.genesis.localchain import LocalChain, group_signature
from rwachain.genesis.sim import adversary, series
from rwachain.genesis.sim.adversary import ProbeEnv
from rwachain.genesis.sim.montecarlo import MarketConfig, MarketModel
from rwachain.genesis.sim.steps import (  # noqa: F401 (the step names are this module's too)
    CUSTODIAN,
    GUARDIAN,
    NATIVE,
    OPERATOR_ACTORS,
    ORIGINATOR,
    PROBE,
    REPORT,
    SERVICER,
    STABLE,
    VERIFIER,
    Step,
    actor_address,
    actor_keypair,
    call_specs,
    steps_from_json,
    steps_to_json,
    weights_of,
)
from rwachain.modules.bank import module as bank_module
from rwachain.modules.core import accounts
from rwachain.modules.core.app import App, BlockResult, default_modules
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.errors import HandlerFault
from rwachain.modules.core.registry import Module
from rwachain.modules.core.simops import Actors, SimOp, ordered
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.oracle import keeper as oracle
from rwachain.modules.oracle.report import bitmap, message

DAY = 86_400
RUSD = 10**6  # base units per RUSD (and per RWA): 6 decimals
BLOCK_TIME = 3_600  # s between simulated blocks
OPS_PER_BLOCK = 3  # random operations per block: 0..OPS_PER_BLOCK, uniformly
HOLDERS = 12
HOLDER_RUSD = 50_000 * RUSD
HOLDER_RWA = 100_000 * RUSD


# ----- genesis ---------------------------------------------------------------------------------------
def sim_genesis(holders: int = HOLDERS, module_params: dict[str, dict] | None = None,
                modules: list[Module] | None = None) -> dict:
    """The devnet genesis (its demo pool, orders and feeds) without fees, plus `holders`
    funded holder accounts. module_params {"stable": {...}, "reserve": {...}, ...} become
    the genesis's params.<module> (the state keys params/<module>), within their hard bounds,
    written in the units the governed modules of modules (the App's; None: the chain's) declare."""
    doc = devnet.at(devnet.GENESIS_TIME)
    doc["params"]["chain"]["feePrice"] = 0
    # the custodian's genesis mint is recomputed from the balances, the holders' included
    doc["stable"] = {k: doc["stable"][k] for k in ("denom", "proofOfReserve")}
    for i in range(holders):
        doc["accounts"].append({"address": actor_keypair(f"holder{i}").address_text,
                                "balances": {NATIVE: str(HOLDER_RWA), STABLE: str(HOLDER_RUSD)}})
    doc["accounts"].sort(key=lambda a: a["address"])
    if module_params:
        decimals = next(d["decimals"] for d in doc["denoms"] if d["id"] == STABLE)
        listed = default_modules() if modules is None else modules
        doc["params"].update(mechanism.module_params_to_json(module_params, units.Stable(STABLE, decimals), listed))
    return doc


# ----- invariants -------------------------------------------------------------------------------------
def check_invariants(app: App, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(source, message) of every broken invariant in the latest committed state: each
    module's own (source: the module's name), then the chain-wide CHAIN_CHECKS not in skip
    (source: chain/<name>). Supply = sum of balances for every token is the bank module's
    invariant; it is checked as chain/supply when no bank module has it."""
    ctx = app.reader()
    out = [(m.name, msg) for m in app.modules if m.invariants is not None for msg in m.invariants(ctx)]
    if not any(m.name == bank_module.NAME and m.invariants is not None for m in app.modules):
        out += [("chain/supply", msg) for msg in bank_module.invariants(ctx)]
    for name, fn in CHAIN_CHECKS.items():
        if name not in skip:
            out += [(f"chain/{name}", msg) for msg in fn(ctx)]
    return out


def contained_faults(res: BlockResult) -> list[tuple[str, str]]:
    """(call or hook, exception class) of every fault the block contained: receipts failed
    with handler_fault and hook.fault events. A sound chain has none."""
    out = [(r.message.split(" raised ")[0], r.message.split(" raised ")[-1])
           for r in res.receipts if r.error == HandlerFault.name]
    return out + [(e["attrs"]["hook"], e["attrs"]["error"]) for e in res.events if e["type"] == "hook.fault"]


# ----- running steps ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Failure:
    """A broken run: the block index and time, its kind ("invariant", "exception" out of the
    block, "fault" of a transaction's handler, "probe" of an adversary), a key that names
    what broke (the invariant's source, the exception's type, the faulted calls, the probe)
    and the messages."""

    block: int
    time: int
    kind: str
    key: str
    messages: tuple[str, ...]

    def to_json(self) -> dict:
        return {"block": self.block, "time": self.time, "kind": self.kind, "key": self.key,
                "messages": list(self.messages)}


class Runner:
    """Executes steps block by block on a fresh LocalChain and checks the invariants."""

    def __init__(self, genesis: dict, *, block_time: int = BLOCK_TIME,
                 modules: Callable[[], list[Module]] | None = None, check: bool = True,
                 skip: tuple[str, ...] = ()):
        self.chain = LocalChain(genesis, proposer=devnet.validator_key().address,
                                modules=modules() if modules is not None else None)
        self.t0 = self.chain.time
        self.block_time = block_time
        self.check = check
        self.skip = skip
        self.secrets = [devnet.operator_secret(j) for j in range(devnet.OPERATORS)]

    def time_of(self, block: int) -> int:
        return self.t0 + block * self.block_time

    def reader(self) -> Ctx:
        return self.chain.reader()

    def execute(self, block: int, steps: list[Step]) -> tuple[BlockResult | None, Failure | None]:
        """Run steps as the block with index `block`: its probes first, on a throwaway copy
        of the state (genesis/sim/adversary.py), then its transactions; (result, failure or None).
        A transaction whose handler faulted (raised something other than a typed error)
        is a failure: the chain survives it, but it is a bug."""
        now = self.time_of(block)
        txs_steps = [s for s in steps if s.module != PROBE]
        for s in steps:
            if s.module == PROBE:
                broken = adversary.PROBES[s.call](ProbeEnv(self.chain.app, now, self.chain.chain_id), s.actor, s.args)
                if broken:
                    return None, Failure(block, now, "probe", f"probe:{s.call}", tuple(broken))
        ctx = self.chain.reader()
        nonces: dict[bytes, int] = {}
        rounds: dict[str, int] = {}
        txs = [self._tx(ctx, s, now, nonces, rounds) for s in txs_steps]
        try:
            res = self.chain.produce(txs, now)
        except Exception as exc:  # a module raised something other than a typed refusal
            self.chain.app.abandon()
            return None, Failure(block, now, "exception", f"exception:{type(exc).__name__}",
                                 (f"{type(exc).__name__}: {exc}",))
        faults = contained_faults(res)
        if faults:
            return res, Failure(block, now, "fault", "fault:" + ",".join(sorted({w for w, _ in faults})),
                                tuple(f"{w} raised {e}" for w, e in faults))
        if self.check:
            broken = check_invariants(self.chain.app, self.skip)
            if broken:
                src = sorted({s for s, _ in broken})
                return res, Failure(block, now, "invariant", "invariant:" + ",".join(src),
                                    tuple(f"{s}: {m}" for s, m in broken))
        return res, None

    def _tx(self, ctx: Ctx, s: Step, now: int, nonces: dict[bytes, int], rounds: dict[str, int]) -> bytes:
        key = actor_keypair(s.actor)
        n = nonces.get(key.address)
        if n is None:
            n = accounts.nonce(ctx, key.address)
        nonces[key.address] = n + 1
        args = self._report_args(ctx, s.args, now, rounds) if (s.module, s.call) == REPORT else s.args
        return sign_tx(key, chain=self.chain.chain_id, nonce=n, fee=0, module=s.module, call=s.call, args=args)

    def _report_args(self, ctx: Ctx, a: dict, now: int, rounds: dict[str, int]) -> dict:
        feed = a["feed"]
        st = oracle.state_of(ctx, feed)
        last = 0 if st is None else max(st.round, st.pending.round if st.pending else 0)
        rnd = max(last, rounds.get(feed, 0)) + 1
        rounds[feed] = rnd
        epoch = oracle.operator_set(ctx).epoch
        obs = max(0, now - a.get("age", 0))
        signers = sorted({i for i in a["signers"] if 0 <= i < len(self.secrets)})
        msg = message(self.chain.chain_id, epoch, feed, a["value"], obs, rnd)
        sig = group_signature([self.secrets[i] for i in signers], msg) if signers else b"\0" * 96
        n = len(oracle.operator_set(ctx).operators)
        return {"feed": feed, "value": a["value"], "observedAt": obs, "round": rnd, "epoch": epoch,
                "signers": bitmap(signers, n), "signature": sig}

    def sample(self, res: BlockResult) -> dict:
        """The per-block metrics row after the block of res (genesis/sim/series.py)."""
        events = list(res.events) + [e for r in res.receipts for e in r.events]
        return series.sample(self.chain.reader(), events, series.reader_at(self.chain.app, res.height - 1))

    def close(self) -> None:
        self.chain.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def group_by_block(steps: list[Step]) -> list[tuple[int, list[Step]]]:
    """Steps grouped into blocks, in block order (a step list is kept in its given order)."""
    out: dict[int, list[Step]] = {}
    for s in steps:
        out.setdefault(s.block, []).append(s)
    return sorted(out.items())


def replay(steps: list[Step], genesis: dict | None = None, *, block_time: int = BLOCK_TIME,
           modules: Callable[[], list[Module]] | None = None, skip: tuple[str, ...] = ()) -> Failure | None:
    """Run a step list on a fresh chain (only the blocks that hold steps); the first failure."""
    with Runner(genesis if genesis is not None else sim_genesis(), block_time=block_time, modules=modules,
                skip=skip) as r:
        for block, group in group_by_block(steps):
            _, failure = r.execute(block, group)
            if failure is not None:
                return failure
    return None


# ----- the random operations -------------------------------------------------------------------------
def module_ops(modules: list[Module]) -> dict[str, tuple[str, SimOp]]:
    """{"module.name": (module, operation)} of the operations the modules declare
    (Module.sim_ops, modules/core/simops.py)."""
    return {f"{m.name}.{op.op_name}": (m.name, op) for m in modules for op in m.sim_ops}


def _weight(w: int | Fraction) -> int | float:
    """A declared weight as random.choices takes it (a Fraction as its float: 1/4 is 0.25)."""
    return w if type(w) is int else float(w)


def operation_weights(modules: list[Module] | None = None) -> dict[str, int | float]:
    """The default weight of every random operation of an App of these modules (None: the
    chain's modules), in draw order: each module's declared operations placed as they
    declare (modules/core/simops.ordered; the bank's first)."""
    modules = default_modules() if modules is None else modules
    return ordered([(name, _weight(op.weight), op.after) for name, (_, op) in module_ops(modules).items()])


DEFAULT_WEIGHTS = operation_weights()
"""The weights of a run over the chain's modules, in draw order."""


def amount_of(rng: Random, have: int) -> int:
    """Mostly a part of `have`, sometimes more than all of it (refused), never 0."""
    r = rng.random()
    if r < 0.05 or have <= 0:
        return max(1, have) + rng.randint(1, 10**6)
    return max(1, int(have * rng.random() * (0.5 if r < 0.8 else 1.0)))


class UnitDraw:
    """One uniform draw in [0, 1), compared against thresholds given as fractions."""

    __slots__ = ("r",)

    def __init__(self, r: float):
        self.r = r

    def below(self, num: int, den: int) -> bool:
        return self.r < num / den


class DrawRandom:
    """The run's generator as a module's draw sees it (modules/core/simops.py): the
    integer draws of random.Random, and chance and scale, its float draws in integer terms."""

    __slots__ = ("rng",)

    def __init__(self, rng: Random):
        self.rng = rng

    def choice(self, seq):
        return self.rng.choice(seq)

    def randint(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def sample(self, population, k: int) -> list:
        return self.rng.sample(population, k)

    def randbytes(self, n: int) -> bytes:
        return self.rng.randbytes(n)

    def amount(self, have: int) -> int:
        return amount_of(self.rng, have)

    def chance(self, num: int, den: int) -> bool:
        return self.rng.random() < num / den

    def unit(self) -> UnitDraw:
        return UnitDraw(self.rng.random())

    def scale(self, value: int, lo: int, hi: int, den: int) -> int:
        return int(value * (1 + self.rng.uniform(lo / den, hi / den)))


class Operations:
    """Builds weighted random steps from the current state: the operations the App's
    modules declare (Module.sim_ops), drawn by weight, after the steps the modules add to
    every block (Module.sim_block). A draw that returns None (the state offers nothing
    for it) is simply skipped."""

    def __init__(self, rng: Random, holders: int, weights: dict[str, float] | None = None,
                 modules: list[Module] | None = None):
        self.rng = rng
        self.holders = [f"holder{i}" for i in range(holders)]
        listed = default_modules() if modules is None else modules
        self.module_ops = module_ops(listed)
        self.each_block = [m.sim_block for m in listed if m.sim_block is not None]
        self.names, self.weights = weights_of(operation_weights(listed), weights, "operation")
        self.traders = self.holders + ["dev7", "dev8"]  # dev7 and dev8 hold the demo pool's units
        self.draws = DrawRandom(rng)
        self.actors = Actors(self.traders, actor_address, {
            "operator": OPERATOR_ACTORS, "guardian": [GUARDIAN], "originator": [ORIGINATOR], "verifier": [VERIFIER],
            "servicer": [SERVICER], "custodian": [CUSTODIAN], "holder": self.holders,
            "staker": [*self.traders, "dev0"]})

    def steps(self, block: int, now: int, ctx: Ctx, count: int) -> list[Step]:
        """The block's steps: the modules' own for every block, then count weighted draws
        (ctx reads the state at the block's time, now)."""
        out: list[Step] = []
        if not self.names:
            return out
        for each in self.each_block:
            out += [Step(block, *s) for s in each(self.draws, ctx, self.actors, block, self.names)]
        for name in self.rng.choices(self.names, self.weights, k=count):
            step = self._declared(block, ctx, *self.module_ops[name])
            if step is not None:
                out.append(step)
        return out

    def _declared(self, block: int, ctx: Ctx, module: str, op: SimOp) -> Step | None:
        """A step of an operation its module declares (Module.sim_ops): drawn by the module
        with this run's generator, signed by one of the holders or traders it picks."""
        drawn = op.draw(self.draws, ctx, self.actors)
        return None if drawn is None else Step(block, drawn[0], module, op.call, drawn[1])


# ----- a whole run ------------------------------------------------------------------------------------
@dataclass
class SimConfig:
    """What a run does: seed, blocks, seconds per block, random operations per block (at most),
    holders, operation weights (None: DEFAULT_WEIGHTS), the Monte-Carlo driver of the
    oracle and the servicer (genesis/sim/montecarlo.py; None: off), module parameters, and
    chain-wide checks to leave out (names of CHAIN_CHECKS)."""

    seed: int
    blocks: int
    block_time: int = BLOCK_TIME
    ops_per_block: int = OPS_PER_BLOCK
    holders: int = HOLDERS
    weights: dict[str, int] | None = None
    montecarlo: MarketConfig | None = None
    module_params: dict[str, dict] | None = None
    skip_checks: tuple[str, ...] = ()
    attacks: dict[str, float] | None = None  # attack weights (None: adversary.DEFAULT_ATTACKS)
    attack_rate: float = 0.5  # the chance of an attack in a block; 0: no adversary

    def genesis(self, modules: list[Module] | None = None) -> dict:
        """The run's genesis for an App of modules (None: the chain's)."""
        return sim_genesis(self.holders, self.module_params, modules)


@dataclass
class SimResult:
    """A run's outcome: blocks run, the steps made, the failure if any, per-call counts of
    outcomes ({"module.call": {"ok": n, "<error>": n}}), the final state root, seconds, the
    series document of per-block metrics when it was recorded."""

    seed: int
    blocks: int
    steps: list[Step]
    failure: Failure | None
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    state_root: bytes = b""
    elapsed: float = 0.0
    series: dict | None = None  # the series document, when recorded


BlockHook = Callable[[int, int, list[Step], BlockResult, Ctx], None]


def run(cfg: SimConfig, *, modules: Callable[[], list[Module]] | None = None,
        progress: Callable[[int, int], None] | None = None, on_block: BlockHook | None = None,
        extra: Callable[[int, int, Ctx], list[Step]] | None = None, check: bool = True,
        record_series: bool = False) -> SimResult:
    """Generate and run cfg.blocks blocks; stops at the first failure.

    modules builds the module list (a planted bug, in tests); progress(done, total) is
    called every 50 blocks; on_block(block, time, steps, result, reader) after every block
    (steps: the block's transactions, in the order of its receipts; probes left out);
    extra(block, time, reader) adds steps of the caller's own (genesis/sim/sweep.py's exits);
    check=False skips the invariants (a sweep measures, it does not check); record_series:
    the result carries the series document of per-block metrics (genesis/sim/series.py).
    """
    started = _clock.monotonic()
    rng = Random(cfg.seed)
    ops_rng = Random(rng.getrandbits(64))  # the operations are built once the App's modules are known
    model = (MarketModel(Random(rng.getrandbits(64)), cfg.montecarlo, cfg.block_time,
                         cfg.holders)
             if cfg.montecarlo is not None else None)
    count_rng = Random(rng.getrandbits(64))
    adv = adversary.Adversary(Random(rng.getrandbits(64)), cfg.holders, cfg.attacks, cfg.attack_rate)
    steps: list[Step] = []
    stats: dict[str, dict[str, int]] = {}
    failure = None
    done = 0
    rows: list | None = [] if record_series else None
    listed = modules() if modules is not None else default_modules()
    with Runner(cfg.genesis(listed), block_time=cfg.block_time, modules=lambda: listed, check=check,
                skip=cfg.skip_checks) as r:
        ops = Operations(ops_rng, cfg.holders, cfg.weights, r.chain.app.modules)
        for block in range(1, cfg.blocks + 1):
            now = r.time_of(block)
            ctx = r.chain.app.context(r.chain.app.store, BlockInfo(block, now, b""))  # reads at the new block's time
            group = model.steps(block, now, ctx) if model is not None else []
            group += ops.steps(block, now, ctx, count_rng.randint(0, cfg.ops_per_block))
            group += adv.steps(block, now, ctx)
            if extra is not None:
                group += extra(block, now, ctx)
            steps += group
            res, failure = r.execute(block, group)
            if res is not None:
                for s, rc in zip([s for s in group if s.module != PROBE], res.receipts, strict=True):
                    per = stats.setdefault(f"{s.module}.{s.call}", {})
                    outcome = "ok" if rc.code == 0 else rc.error
                    per[outcome] = per.get(outcome, 0) + 1
                if on_block is not None:
                    on_block(block, now, [s for s in group if s.module != PROBE], res, r.reader())
                if rows is not None:
                    rows.append(r.sample(res))
            done = block
            if progress is not None and (block % 50 == 0 or block == cfg.blocks or failure is not None):
                progress(block, cfg.blocks)
            if failure is not None:
                break
        root = r.chain.app.store.root_hash
        doc = (series.document(rows, r.chain.chain_id, series.stable_decimals(r.reader()))
               if rows is not None else None)
    return SimResult(cfg.seed, done, steps, failure, stats, root, _clock.monotonic() - started, doc)
