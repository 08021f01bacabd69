"""What a sweep varies: every run's configuration as a flat map of paths to values, the
values of a path in human units, and the plan (every run: its index, seed, configuration).

Paths (`rwad sweep --paths` lists them with their units and defaults):
    params.<module>.<key>[.<entry>]   a governed parameter of the App's modules (Space(modules);
                                      the module-level functions are the chain's, CHAIN); a list
                                      entry by index (params.stable.hBase.1), a map entry by
                                      name (params.stable.ceilings.tranche)
    mc.<field>                        a Monte-Carlo input (genesis/sim/montecarlo.py FIELDS, camelCase)
    sim.<field>                       blocks, blockTime, holders, exitChance of the run itself

Units and how a value is written:
    wad       a decimal fraction or a percentage: 0.03, 3%     (stored x 10^18)
    base      whole stable tokens, decimals allowed: 20000.5   (stored x 10^6)
    s         seconds, or with a suffix: 3600, 90m, 6h, 30d
    bps, count  an integer
    per year, ratio, x   a decimal number (Monte-Carlo inputs are floats: tooling only)
A specification of several values: a list "a,b,c"; a grid "lo:hi:step" (hi included when
the steps reach it); random draws "uniform(lo,hi)xN" (drawn from Random("<draw seed>:<path>")
and rounded: wad to 10^-6, base to 10^-6 tokens, s to whole seconds, floats to 6 decimals).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from random import Random
from typing import Any

from rwachain.genesis.sim import montecarlo
from rwachain.modules.core.app import default_modules
from rwachain.modules.core.errors import InvalidState
from rwachain.modules.core.fixed import WAD
from rwachain.modules.core.registry import Module
from rwachain.modules.governance import changes

RUSD = 10**6
DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
# The sweep's unit of each kind of governed parameter (the modules declare the kinds:
# Module.params, read through changes.governed_units).
_SWEEP_UNIT = {"ratio": "wad", "duration": "s", "stable": "base", "bps": "bps", "count": "count", "int": "count"}


def _leaf_unit(declared: Any) -> str:
    """The sweep unit of a declaration: a kind name, a ("list", n, kind) or a map of kinds
    (its entries share one kind)."""
    if isinstance(declared, dict):
        return _leaf_unit(next(iter(declared.values())))
    if isinstance(declared, tuple):
        return _leaf_unit(declared[-1])
    return _SWEEP_UNIT[declared]


# The run itself: (type, unit, default, what).
SIM_FIELDS: dict[str, tuple[type, str, Any, str]] = {
    "blocks": (int, "count", 240, "blocks per run, > 0"),
    "blockTime": (int, "s", 3600, "seconds between blocks, > 0"),
    "holders": (int, "count", 12, "funded holder accounts, 1..200"),
    "exitChance": (float, "ratio", 0.25, "per block: the chance that a holder decides to sell a batch, in [0, 1]"),
}
_UNIFORM = re.compile(r"^uniform\(\s*([^,()]+)\s*,\s*([^,()]+)\s*\)\s*x\s*(\d+)$")


class SweepError(ValueError):
    """A bad path, value or plan; the message names the path at fault."""


# ----- the paths of an App's modules --------------------------------------------------------------
class Space:
    """The paths a sweep over an App of these modules may set: their governed parameters
    (params.*, as the modules declare them: Module.params), the Monte-Carlo inputs (mc.*)
    and the run's own fields (sim.*), with their units and defaults; and the plans and
    configurations over them. CHAIN is the chain's own (modules/core/app.default_modules),
    whose methods are this module's functions of the same names."""

    def __init__(self, modules: Iterable[Module]):
        modules = list(modules)
        self.governed = changes.governed(modules)  # {module: (state key, defaults)}
        # the unit of every governed parameter (module.key; a list's or map's entries share it)
        self.param_units = {f"{module}.{key}": _leaf_unit(u) for module, units in changes.governed_units(modules).items()
                            for key, u in units.items()}

    # ----- paths ---------------------------------------------------------------------------------
    def defaults(self) -> dict[str, Any]:
        """Every path with its default value, in the documented order (params, mc, sim)."""
        out: dict[str, Any] = {}
        for module, (_, params) in sorted(self.governed.items()):
            for key, v in params.items():
                if isinstance(v, dict):
                    out.update({f"params.{module}.{key}.{k}": x for k, x in v.items()})
                elif isinstance(v, list):
                    out.update({f"params.{module}.{key}.{i}": x for i, x in enumerate(v)})
                else:
                    out[f"params.{module}.{key}"] = v
        cfg = montecarlo.MarketConfig()
        out.update({f"mc.{montecarlo.camel(f)}": getattr(cfg, f) for f in montecarlo.FIELDS})
        out.update({f"sim.{k}": d for k, (_, _, d, _) in SIM_FIELDS.items()})
        return out

    def unit_of(self, path: str) -> str:
        """The unit of a path (see the module's docstring); SweepError for an unknown path."""
        parts = path.split(".")
        if parts[0] == "params" and len(parts) >= 3 and f"{parts[1]}.{parts[2]}" in self.param_units:
            return self.param_units[f"{parts[1]}.{parts[2]}"]
        if parts[0] == "mc" and len(parts) == 2 and montecarlo.snake(parts[1]) in montecarlo.FIELDS:
            return montecarlo.FIELDS[montecarlo.snake(parts[1])][1]
        if parts[0] == "sim" and len(parts) == 2 and parts[1] in SIM_FIELDS:
            return SIM_FIELDS[parts[1]][1]
        raise SweepError(f"{path}: unknown path (rwad sweep --paths lists them)")

    def check_path(self, path: str, known: dict[str, Any]) -> None:
        if path not in known:
            self.unit_of(path)  # names an unknown module, key or field
            raise SweepError(f"{path}: no such entry (rwad sweep --paths lists them)")

    # ----- values --------------------------------------------------------------------------------
    def parse_value(self, path: str, text: str) -> int | float:
        """One value of a path from its human form (module docstring); SweepError names the path."""
        unit, t = self.unit_of(path), text.strip()
        try:
            if unit == "s":
                mult = DURATION.get(t[-1:])
                d = Decimal(t[:-1] if mult else t) * (mult or 1)
                return _exact(path, d, t, unit)
            if kind_of(path) is float:
                return float(Decimal(t))
            if unit == "wad":
                d = Decimal(t[:-1]) / 100 if t.endswith("%") else Decimal(t)
                return _exact(path, d * WAD, t, unit)
            if unit == "base":
                return _exact(path, Decimal(t) * RUSD, t, unit)
            return _exact(path, Decimal(t), t, unit)
        except InvalidOperation:
            raise SweepError(f"{path}: {t!r} is not a number ({unit})") from None

    def human(self, path: str, value: int | float) -> str:
        """A value in the form parse_value reads (wad as a fraction, base in whole tokens)."""
        unit = self.unit_of(path)
        if isinstance(value, float):
            return repr(value)
        if unit in ("wad", "base"):
            return format((Decimal(value) / (WAD if unit == "wad" else RUSD)).normalize(), "f")
        return str(value)

    def parse_spec(self, path: str, text: str, draw_seed: int = 0) -> list[int | float]:
        """The values of a specification: a list, a grid lo:hi:step, or uniform(lo,hi)xN draws."""
        t = text.strip()
        m = _UNIFORM.match(t)
        if m:
            lo, hi, n = self.parse_value(path, m[1]), self.parse_value(path, m[2]), int(m[3])
            if not lo <= hi or n == 0:
                raise SweepError(f"{path}: uniform(lo,hi)xN needs lo <= hi and N >= 1")
            rng = Random(f"{draw_seed}:{path}")
            return [self._round_draw(path, rng.uniform(float(lo), float(hi))) for _ in range(n)]
        if t.count(":") == 2:
            lo, hi, step = (self.parse_value(path, p) for p in t.split(":"))
            if step <= 0 or hi < lo:
                raise SweepError(f"{path}: a grid lo:hi:step needs lo <= hi and step > 0")
            n = int((Decimal(str(hi)) - Decimal(str(lo))) / Decimal(str(step)))
            if n > 10_000:
                raise SweepError(f"{path}: the grid has more than 10,000 values")
            vals = [lo + i * step for i in range(n + 1)]
            return [round(v, 12) if isinstance(v, float) else v for v in vals]
        if not t:
            raise SweepError(f"{path}: no values")
        return [self.parse_value(path, p) for p in t.split(",")]

    def _round_draw(self, path: str, x: float) -> int | float:
        unit = self.unit_of(path)
        if kind_of(path) is float:
            return round(x, 6)
        if unit in ("wad", "base"):
            step = WAD // 10**6 if unit == "wad" else 1
            return round(x / step) * step
        return round(x)

    # ----- configurations ------------------------------------------------------------------------
    def module_params(self, cfg: dict[str, Any]) -> dict[str, dict]:
        """The params.<module> maps of a configuration, nested as the modules keep them."""
        out: dict[str, dict] = {}
        for module, (_, dflt) in self.governed.items():
            p: dict[str, Any] = {}
            for key, v in dflt.items():
                base = f"params.{module}.{key}"
                if isinstance(v, dict):
                    p[key] = {k: cfg[f"{base}.{k}"] for k in v}
                elif isinstance(v, list):
                    p[key] = [cfg[f"{base}.{i}"] for i in range(len(v))]
                else:
                    p[key] = cfg[base]
            out[module] = p
        return out

    def check(self, cfg: dict[str, Any]) -> None:
        """SweepError naming the first path out of range (a module's hard bounds, a Monte-Carlo
        input's range, the run's own fields)."""
        params = self.module_params(cfg)
        for module, p in sorted(params.items()):
            try:
                changes.check_bounds(module, p, params)
            except InvalidState as exc:
                named = exc.message.split(".")[0] in params
                raise SweepError(f"params.{exc.message}" if named else f"params.{module}: {exc.message}") from None
        bad = market_config(cfg).problems()
        if bad:
            raise SweepError(bad[0])
        ranges = {"blocks": cfg["sim.blocks"] > 0, "blockTime": cfg["sim.blockTime"] > 0,
                  "holders": 1 <= cfg["sim.holders"] <= 200, "exitChance": 0 <= cfg["sim.exitChance"] <= 1}
        for k, ok in ranges.items():
            if not ok:
                raise SweepError(f"sim.{k}: {cfg[f'sim.{k}']!r} is out of range ({SIM_FIELDS[k][3]})")

    def config_to_json(self, cfg: dict[str, Any]) -> dict[str, Any]:
        """A configuration as JSON: wad and base values as decimal strings, the others as numbers."""
        return {p: str(v) if self.unit_of(p) in ("wad", "base") else v for p, v in cfg.items()}

    def config_from_json(self, raw: Any, where: str) -> dict[str, Any]:
        """A configuration from its JSON (or CSV text) form, every path present; SweepError."""
        known = self.defaults()
        if not isinstance(raw, dict):
            raise SweepError(f"{where}: expected an object of path to value")
        missing = [p for p in known if p not in raw]
        extra = [p for p in raw if p not in known]
        if missing or extra:
            raise SweepError(f"{where}: {'missing ' + missing[0] if missing else 'unknown path ' + extra[0]}")
        out = {}
        for p in known:
            v = raw[p]
            try:
                out[p] = float(v) if kind_of(p) is float else int(v)
            except (TypeError, ValueError):
                raise SweepError(f"{where}: {p}: {v!r} is not a number") from None
        return out

    # ----- plans ---------------------------------------------------------------------------------
    def plan(self, vary: list[tuple[str, str]], fixed: list[tuple[str, str]], seeds: list[int],
             draw_seed: int = 0) -> dict:
        """Every run of a sweep: {"kind": "sweep-plan", "varied": [paths], "specs", "fixed",
        "seedList", "drawSeed", "runs": [{"run", "seed", "config"}]}. Grid and list axes combine
        as a product; random axes are drawn jointly (all with the same N, zipped), and their N
        points combine with the others as one axis; every point runs every seed."""
        base = self.defaults()
        for path, text in fixed:
            self.check_path(path, base)
            base[path] = self.parse_value(path, text)
        seen: set[str] = set()
        grids: list[list[tuple]] = []
        draws: list[tuple[str, list]] = []
        for path, text in vary:
            self.check_path(path, base)
            if path in seen:
                raise SweepError(f"{path}: varied twice")
            seen.add(path)
            vals = self.parse_spec(path, text, draw_seed)
            if _UNIFORM.match(text.strip()):
                draws.append((path, vals))
            else:
                grids.append([((path, v),) for v in dict.fromkeys(vals)])
        if draws:
            if len({len(v) for _, v in draws}) > 1:
                raise SweepError(f"{draws[0][0]}: random axes are drawn jointly and need the same number of draws")
            grids.append([tuple((p, vals[i]) for p, vals in draws) for i in range(len(draws[0][1]))])
        if not seeds:
            raise SweepError("no seeds")
        runs = []
        for point in itertools.product(*grids):
            cfg = dict(base)
            for assignment in point:
                cfg.update(dict(assignment))
            self.check(cfg)
            for s in seeds:
                runs.append({"run": len(runs), "seed": s, "config": cfg})
        if len(runs) > 100_000:
            raise SweepError(f"the sweep has {len(runs)} runs; at most 100,000")
        varied = [p for p, _ in vary]
        return {"kind": "sweep-plan", "varied": varied, "specs": dict(vary), "fixed": dict(fixed),
                "seedList": list(seeds), "drawSeed": draw_seed, "runs": runs}

    def plan_to_json(self, p: dict) -> dict:
        return {**p, "runs": [{**r, "config": self.config_to_json(r["config"])} for r in p["runs"]]}

    def plan_from_json(self, raw: Any, where: str) -> dict:
        if not isinstance(raw, dict) or raw.get("kind") != "sweep-plan" or not isinstance(raw.get("runs"), list):
            raise SweepError(f"{where}: not a sweep plan")
        runs = [{"run": r["run"], "seed": r["seed"], "config": self.config_from_json(r["config"], f"{where}: run {i}")}
                for i, r in enumerate(raw["runs"])]
        return {**raw, "runs": runs}


# ----- what depends on no module ---------------------------------------------------------------------
def kind_of(path: str) -> type:
    """int or float: the type of a path's values."""
    if path.startswith("mc."):
        return montecarlo.FIELDS[montecarlo.snake(path[3:])][0]
    if path.startswith("sim."):
        return SIM_FIELDS[path[4:]][0]
    return int


def _exact(path: str, d: Decimal, text: str, unit: str) -> int:
    if not d.is_finite() or d != d.to_integral_value():
        raise SweepError(f"{path}: {text!r} is not a whole number of the stored unit ({unit})")
    return int(d)


def market_config(cfg: dict[str, Any]) -> montecarlo.MarketConfig:
    return montecarlo.MarketConfig(**{f: cfg[f"mc.{montecarlo.camel(f)}"] for f in montecarlo.FIELDS})


def genesis_hash(genesis: dict) -> str:
    """sha256 of the genesis document as canonical JSON (sorted keys, no spaces), 0x-hex."""
    text = json.dumps(genesis, sort_keys=True, separators=(",", ":"))
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


CHAIN = Space(default_modules())
"""The sweep space of the chain's modules: what `rwad sweep` and its runs use."""
defaults = CHAIN.defaults
unit_of = CHAIN.unit_of
check_path = CHAIN.check_path
parse_value = CHAIN.parse_value
human = CHAIN.human
parse_spec = CHAIN.parse_spec
module_params = CHAIN.module_params
check = CHAIN.check
config_to_json = CHAIN.config_to_json
config_from_json = CHAIN.config_from_json
plan = CHAIN.plan
plan_to_json = CHAIN.plan_to_json
plan_from_json = CHAIN.plan_from_json
