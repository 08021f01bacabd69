"""Self-contained HTML reports of a run (docs/outputs.md).

One HTML file, nothing outside it: every plot is a PNG drawn with matplotlib's Agg
canvas and embedded as a data:image/png;base64 URI, the style sheet is inline, and there
is no script and no link. matplotlib is imported here only, when a report is drawn, so
the node never loads it.

A series report has the plots PLOTS (ids "plot-<name>"), each a <figure> with a one-line
<figcaption> saying what to read from it, and the final row as a table whose value cells
have the ids "final-<column>" and hold the exact integer. Every column is the state after
a block, so it is drawn as steps that hold each value until it changes (step_points),
against the time since the first block or the block height (x_axis). Amounts are whole
tokens, ratios and rates %, durations days, hours or minutes.

A sweep report plots each metric against each parameter that the sweep varied (ids
"plot-<metric>"): per parameter value the mean over the seeds and the band from the lowest
to the highest seed, and lists the runs (table id "sweep-table").
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from rwachain.genesis.sim import series
from rwachain.genesis.sim.series import SeriesError
from rwachain.modules.core.fixed import WAD
from rwachain.modules.oracle import feeds as oracle_feeds

PLOTS = {  # id: (heading, the one line that says what to read from the figure)
    "prices": ("Unit prices",
               "Each unit's computed price (solid) against its last traded price (dashed): a gap between them is "
               "the discount or premium the market puts on the pool's mark."),
    "nav": ("Pool NAV",
            "Each pool's net asset value: a step down is a default, a write-down or a payout; a step up a "
            "revaluation or cash coming in."),
    "stable": ("Stable token and its collateral ratio",
               "Supply, circulating supply and backing of the stable token; below, the collateral ratio against "
               "100 % (dashed): under it the circulating tokens are not fully backed."),
    "reserve": ("Buyback reserve",
                "The reserve's holdings against its epoch buyback budget; below, the share of the budget spent: "
                "at 100 % the reserve buys nothing more until the next epoch."),
    "oracle": ("Oracle values",
               "Each feed's value after every block, one panel per feed class: a step is a report that moved it."),
    "exits": ("Time to exit",
              "How long sellers waited for their exit in each block (instant exits wait 0), and the units that left "
              "by each route, cumulative."),
}
X_MODES = ("auto", "time", "height")
MAX_LINES = 12  # lines drawn per panel; more are left out (and said so in the legend)
MAX_SWEEP_LINES = 6  # lines per sweep panel (one per setting of the other varied parameters); more are pooled
DEFAULT_SYMBOL = series.DEFAULT_SYMBOL
MAGNITUDES = ((10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
# Units of the columns `rwad sweep` writes, for sweep documents without "units" (matched on
# the last component of a parameter path).
SWEEP_UNITS = {"hSlope": "wad", "trancheCeiling": "base", "budgetShare": "wad", "discount": "wad",
               "exitPriceMean": "wad", "exitPriceWorst": "wad", "timeToExitMean": "s", "reserveDepletion": "wad",
               "lowestCR": "wad", "exits": "count", "seeds": "count"}
_CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin: 1.6em 0 0.4em; }
figure { margin: 0 0 1em; }
figcaption { font-size: 0.9em; color: #333; margin-top: 0.2em; }
div.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th { background: #f4f4f4; vertical-align: bottom; font-weight: 600; }
td.name, th.name { text-align: left; font-family: monospace; overflow-wrap: anywhere; }
img { max-width: 100%; border: 1px solid #eee; }
p.note { color: #555; font-size: 0.9em; }
"""


# ----- numbers for plots (floats are fine here: plots are not state) ------------------------------
def scale(unit: str, value: int | None, decimals: int) -> float:
    """A value in its display unit: base units as whole tokens, wad as a plain ratio; nan for None."""
    if value is None:
        return math.nan
    if unit == "base":
        return value / 10**decimals
    if unit == "wad":
        return value / WAD
    return float(value)


def readable(unit: str, value: int | None, decimals: int) -> str:
    """A value for people: whole tokens, wad as a percentage or ratio, seconds as a duration."""
    if value is None:
        return "-"
    if unit == "base":
        return f"{value / 10**decimals:,.{min(decimals, 6)}f}"
    if unit == "wad":
        return f"{value * 100 / WAD:,.4f} %"
    if unit == "grade":
        return "ABCDE"[value] if 0 <= value < 5 else str(value)
    if unit == "s":
        return _duration(value)
    if unit == "unix":
        import datetime

        return datetime.datetime.fromtimestamp(value, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{value:,}"


def _duration(seconds: float) -> str:
    for size, name in ((86_400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:,.2f} {name}"
    return f"{seconds:,.0f} s"


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def magnitude(values: Iterable[float]) -> tuple[float, str]:
    """(divisor, word) for the numbers of one axis: billion, million or thousand when the
    largest reaches it (thousand from 10,000 on), else (1, "")."""
    top = max((abs(v) for v in _finite(values)), default=0.0)
    for size, word in MAGNITUDES:
        if top >= (10 * size if size == 1000 else size):
            return float(size), word
    return 1.0, ""


def amounts(columns: Sequence[Sequence[float]], symbol: str) -> tuple[list[list[float]], str]:
    """Whole-token columns scaled together to one magnitude, and the unit to write on the axis
    (e.g. "million RUSD")."""
    div, word = magnitude(v for col in columns for v in col)
    return [[v / div for v in col] for col in columns], f"{word} {symbol}".strip()


def time_unit(seconds: Iterable[float]) -> tuple[float, str]:
    """(seconds per unit, unit name) for durations: days from 2 days on, hours from 2 hours, minutes
    from 2 minutes, else seconds."""
    top = max(_finite(seconds), default=0.0)
    for size, name in ((86_400, "days"), (3600, "hours"), (60, "minutes")):
        if top >= 2 * size:
            return float(size), name
    return 1.0, "seconds"


class XAxis(NamedTuple):
    """The x of every row, the axis label, and where the last row's value ends (the last
    block's height + 1 on a height axis: a block's state holds until the next block)."""

    values: list[float]
    label: str
    end: float
    marks: tuple[tuple[float, str], ...] = ()  # on a height axis: (height, time since the start) at time jumps


def x_axis(rows: list[series.Row], mode: str = "auto") -> XAxis:
    """x of the rows. "time": time since the first block, in days (hours or minutes for
    shorter runs); "height": the block height; "auto": time when the run spans an hour or
    more, else height (a fast devnet makes many blocks a second)."""
    if mode not in X_MODES:
        raise SeriesError(f"x must be one of {', '.join(X_MODES)}, not {mode!r}")
    t0 = rows[0]["time"]
    span = rows[-1]["time"] - t0
    if mode == "height" or (mode == "auto" and span < 3600):
        return XAxis([float(r["height"]) for r in rows], "block height", rows[-1]["height"] + 1.0, time_marks(rows))
    size, name = time_unit([span])
    return XAxis([(r["time"] - t0) / size for r in rows], f"{name} since the first block", span / size)


def time_marks(rows: list[series.Row], most: int = 10) -> tuple[tuple[float, str], ...]:
    """(height, time since the first block) at the first block and at every block that comes
    at least 2 % of the run's span after the block before (at most `most`, evenly chosen):
    a height axis marks with them when things happened."""
    t0, span = rows[0]["time"], rows[-1]["time"] - rows[0]["time"]
    if span < 3600:
        return ()
    size, name = time_unit([span])
    jumps = [r for i, r in enumerate(rows) if i == 0 or r["time"] - rows[i - 1]["time"] >= span / 50]
    if len(jumps) > most:
        jumps = [jumps[round(i * (len(jumps) - 1) / (most - 1))] for i in range(most)]
    return tuple((float(r["height"]), f"{(r['time'] - t0) / size:.3g} {name[0]}") for r in jumps)


def clustered(rows: list[series.Row]) -> bool:
    """Whether most blocks follow the block before within a tenth of the average gap: a
    time axis then draws them as one vertical stroke, a height axis keeps them apart."""
    span = rows[-1]["time"] - rows[0]["time"]
    if len(rows) < 4 or span <= 0:
        return False
    mean_gap = span / (len(rows) - 1)
    close = sum(1 for a, b in zip(rows, rows[1:], strict=False) if b["time"] - a["time"] <= mean_gap / 10)
    return close * 2 > len(rows) - 1


def step_points(xs: Sequence[float], ys: Sequence[float], end: float | None = None
                ) -> tuple[list[float], list[float]]:
    """The vertices of the step function that holds ys[i] from xs[i] until the next change:
    a point where the run starts, two at every change (the old and the new value at the
    x of the change) and one at the end (the last x, or `end` when it is later). A value
    flat for 90 days and then jumping is a flat line and a vertical jump at day 90, never a
    slope. nan (no value) leaves a gap."""
    out_x: list[float] = []
    out_y: list[float] = []
    for x, y in zip(xs, ys, strict=True):
        if not out_y:
            out_x.append(x)
            out_y.append(y)
            continue
        last = out_y[-1]
        if y == last or (math.isnan(y) and math.isnan(last)):
            continue
        if not math.isnan(last):
            out_x.append(x)
            out_y.append(last)
        out_x.append(x)
        out_y.append(y)
    stop = xs[-1] if end is None else max(end, xs[-1])
    if out_x and out_x[-1] != stop:
        out_x.append(stop)
        out_y.append(out_y[-1])
    return out_x, out_y


# ----- drawing --------------------------------------------------------------------------------
def _figure(nrows: int = 1, ncols: int = 1, height: float = 3.4, sharex: bool = True, sharey: bool = False):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex, sharey=sharey)
    return fig, [ax for row in axes for ax in row]


def png_uri(fig) -> str:
    """The figure as a data:image/png;base64 URI (no metadata: nothing names a web address)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plain(ax) -> None:
    """Plain tick numbers: no offset ("+3.1e1") and no scientific multiplier."""
    for axis in ("x", "y"):
        with contextlib.suppress(AttributeError):  # categories or letters: not a number formatter
            ax.ticklabel_format(axis=axis, style="plain", useOffset=False)
    ax.grid(True, color="#e6e6e6", linewidth=0.6)


def _finish(axes, x: XAxis) -> None:
    """Every panel over the whole run, plain numbers, no negative range for values that
    never go below 0, the x label under the bottom panel."""
    for ax in axes:
        if x.end > x.values[0]:
            ax.set_xlim(x.values[0], x.end)
        _plain(ax)
        ys = [y for line in ax.get_lines() for y in line.get_ydata() if not math.isnan(y)]
        lo, hi = ax.get_ylim()
        if lo < 0 and min(ys, default=0) >= 0:
            ax.set_ylim(0, hi if max(ys, default=0) > 0 else 1)
    axes[-1].set_xlabel(x.label)
    if x.marks:
        top = axes[0].secondary_xaxis("top")
        top.set_xticks([h for h, _ in x.marks], [t for _, t in x.marks], fontsize=7, color="#555")
        top.set_xlabel("time since the first block, at the blocks where it jumps", fontsize=7, color="#555")


def _steps(ax, x: XAxis, ys: Sequence[float], **kw) -> None:
    sx, sy = step_points(x.values, ys, x.end)
    if any(not math.isnan(v) for v in sy):
        ax.plot(sx, sy, **kw)


def _legend(ax, left_out: int = 0, extra: Sequence = (), below: bool = False) -> None:
    handles, labels = ax.get_legend_handles_labels()
    for handle, label in extra:
        handles.append(handle)
        labels.append(label)
    if left_out:
        handle, label = _note(f"(+{left_out} more not drawn)")
        handles.append(handle)
        labels.append(label)
    if handles and (below or len(handles) > 4):  # many entries would cover the lines: put them under the panel
        under_label = below or ax.get_subplotspec().is_last_row()  # below the x label of the bottom panel
        ax.legend(handles, labels, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2 if under_label else -0.1),
                  ncols=2 if below else min(len(handles), 4), frameon=False)
    elif handles:
        ax.legend(handles, labels, fontsize=7, loc="best")


def _note(text: str) -> tuple:
    """A legend entry of text alone."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none"), text


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777")


def _cols(columns: list[str], prefix: str) -> list[str]:
    return [c for c in columns if c.startswith(prefix)]


def _values(rows, col, unit, decimals) -> list[float]:
    return [scale(unit, r.get(col), decimals) for r in rows]


def _percent(rows, col) -> list[float]:
    return [v * 100 for v in _values(rows, col, "wad", 0)]


def plot_prices(rows, columns, x: XAxis, decimals, symbol=DEFAULT_SYMBOL):
    """Per unit: the computed price (solid steps) and the last traded price (dashed steps)."""
    fig, (ax,) = _figure()
    units = [c[len("price.computed:"):] for c in _cols(columns, "price.computed:")]
    shown = units[:MAX_LINES // 2]
    lines, unit = amounts([_values(rows, f"price.{k}:{u}", "base", decimals) for u in shown
                           for k in ("computed", "traded")], symbol)
    for i, u in enumerate(shown):
        color = f"C{i % 10}"
        _steps(ax, x, lines[2 * i], color=color, label=f"{u} computed")
        _steps(ax, x, lines[2 * i + 1], color=color, linestyle="--", label=f"{u} last traded")
    if not units:
        _empty(ax, "no tranche units on this chain")
    ax.set_ylabel(f"price per unit ({unit})")
    _finish([ax], x)
    untraded = sum(1 for i in range(len(shown)) if all(math.isnan(v) for v in lines[2 * i + 1]))
    _legend(ax, len(units) - len(shown), [_note(f"{untraded} of {len(shown)} units never traded")] if untraded else ())
    return fig


def plot_nav(rows, columns, x: XAxis, decimals, symbol=DEFAULT_SYMBOL):
    """Each pool's NAV as steps."""
    fig, (ax,) = _figure()
    pools = _cols(columns, "pool.nav:")
    lines, unit = amounts([_values(rows, c, "base", decimals) for c in pools[:MAX_LINES]], symbol)
    for c, ys in zip(pools, lines, strict=False):
        _steps(ax, x, ys, label=f"pool {c[len('pool.nav:'):]}")
    if not pools:
        _empty(ax, "no pools on this chain")
    ax.set_ylabel(f"NAV ({unit})")
    _finish([ax], x)
    _legend(ax, max(0, len(pools) - MAX_LINES))
    return fig


def plot_stable(rows, x: XAxis, decimals, symbol=DEFAULT_SYMBOL):
    """Supply, circulating supply and backing; the collateral ratio in % below."""
    fig, (a1, a2) = _figure(2, 1, height=2.6)
    cols = (("stable.backing", "backing", {"linewidth": 4, "alpha": 0.35, "color": "C2"}),
            ("stable.supply", "supply", {"color": "C0"}), ("stable.circulating", "circulating", {"color": "C1"}))
    lines, unit = amounts([_values(rows, c, "base", decimals) for c, _, _ in cols], symbol)
    for (_, label, style), ys in zip(cols, lines, strict=True):
        _steps(a1, x, ys, label=label, **style)
    a1.set_ylabel(unit)
    _legend(a1)
    _steps(a2, x, _percent(rows, "stable.cr"), color="C3", label="collateral ratio")
    a2.axhline(100, color="#999", linewidth=0.8, linestyle="--")
    a2.set_ylabel("collateral ratio (%)")
    _finish([a1, a2], x)
    return fig


def plot_reserve(rows, x: XAxis, decimals, symbol=DEFAULT_SYMBOL):
    """Holdings value, epoch budget and budget used; the budget used in % below."""
    fig, (a1, a2) = _figure(2, 1, height=2.6)
    cols = (("reserve.value", "holdings value"), ("reserve.budget", "epoch budget"), ("reserve.used", "budget used"))
    lines, unit = amounts([_values(rows, c, "base", decimals) for c, _ in cols], symbol)
    for (_, label), ys in zip(cols, lines, strict=True):
        _steps(a1, x, ys, label=label)
    a1.set_ylabel(unit)
    _legend(a1)
    use = [(r.get("reserve.used") or 0) * 100 / r["reserve.budget"] if r.get("reserve.budget") else math.nan
           for r in rows]
    _steps(a2, x, use, color="C3")
    a2.set_ylim(0, 105)
    a2.set_ylabel("budget used (%)")
    _finish([a1, a2], x)
    return fig


def plot_oracle(rows, columns, x: XAxis, decimals, symbol=DEFAULT_SYMBOL):
    """One panel per feed class: rates and ratios in %, grades as letters, reserves in tokens."""
    feeds = [c[len("oracle:"):] for c in _cols(columns, "oracle:")]
    classes: dict[str, list[str]] = {c: [] for c in oracle_feeds.CLASSES}
    for f in feeds:
        classes.setdefault(oracle_feeds.class_of(f), []).append(f)
    classes = {c: fs for c, fs in classes.items() if fs}
    fig, axes = _figure(max(1, len(classes)), 1, height=2.2)
    if not classes:
        _empty(axes[0], "no oracle feeds on this chain")
    for ax, (cls, fs) in zip(axes, classes.items(), strict=False):
        unit = series.unit_of(f"oracle:{fs[0]}")
        shown = fs[:MAX_LINES]
        if unit == "base":
            lines, label = amounts([_values(rows, f"oracle:{f}", unit, decimals) for f in shown], symbol)
        elif unit == "wad" and cls != "price":
            lines, label = [_percent(rows, f"oracle:{f}") for f in shown], "%"
        else:
            lines, label = [_values(rows, f"oracle:{f}", unit, decimals) for f in shown], "ratio"
        for f, ys in zip(shown, lines, strict=True):
            _steps(ax, x, ys, label=_short(f))
        if unit == "grade":
            ax.set_yticks(range(5), list("ABCDE"))
            ax.set_ylim(4.4, -0.4)
            label = "grade"
        ax.set_ylabel(label)
        ax.set_title(cls, fontsize=9, loc="left")
        _legend(ax, len(fs) - len(shown))
    _finish(axes, x)
    return fig


def _short(name: str, keep: int = 24) -> str:
    return name if len(name) <= keep else name[:keep - 1] + "…"


def plot_exits(rows, x: XAxis):
    """Per block: instant exits at 0, market sales' average and longest wait; cumulative units below."""
    fig, (a1, a2) = _figure(2, 1, height=2.6)
    avg = [(r["exits.marketWaitSum"] / r["exits.marketWaitQuantity"]) if r.get("exits.marketWaitQuantity")
           else math.nan for r in rows]
    mx = [math.nan if r.get("exits.marketWaitMax") is None else float(r["exits.marketWaitMax"]) for r in rows]
    size, name = time_unit(mx)
    inst = [0.0 if r.get("exits.instant") else math.nan for r in rows]
    a1.plot(x.values, inst, linestyle="none", marker="v", color="C2", label="instant exit (stable.exit): waits 0")
    a1.plot(x.values, [v / size for v in avg], linestyle="none", marker="o", color="C0",
            label="market sale: average wait of the filled sell orders")
    a1.plot(x.values, [v / size for v in mx], linestyle="none", marker="x", color="C3", label="market sale: longest wait")
    a1.set_ylabel(f"time to exit ({name})")
    if all(math.isnan(v) for v in inst + avg + mx):
        _empty(a1, "no exits in this run")
    _legend(a1)
    ci = cm = 0
    cum_i, cum_m = [], []
    for r in rows:
        ci += r.get("exits.instantQuantity") or 0
        cm += r.get("exits.marketQuantity") or 0
        cum_i.append(float(ci))
        cum_m.append(float(cm))
    _steps(a2, x, cum_i, color="C2", label="exited instantly")
    _steps(a2, x, cum_m, color="C0", label="sold on the market")
    a2.set_ylabel("units (cumulative)")
    _legend(a2)
    _finish([a1, a2], x)
    return fig


# ----- pages ----------------------------------------------------------------------------------
def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def figure_html(pid: str, heading: str, caption: str, uri: str) -> str:
    """A heading, then the figure: its image (id "plot-<pid>") and its one-line caption."""
    return (f'<h2>{html.escape(heading)}</h2>\n<figure><img id="plot-{html.escape(pid, quote=True)}" '
            f'alt="{html.escape(heading, quote=True)}" src="{uri}">\n'
            f'<figcaption>{html.escape(caption)}</figcaption></figure>')


def _scroll(table: str) -> str:
    return f'<div class="scroll">\n{table}\n</div>'


def _decimals(doc: dict) -> int:
    d = doc.get("decimals", series.DEFAULT_DECIMALS)
    if type(d) is not int or not 0 <= d <= 30:
        raise SeriesError('"decimals" must be an integer in [0, 30]')
    return d


def _symbol(doc: dict) -> str:
    s = doc.get("symbol", DEFAULT_SYMBOL)
    if not isinstance(s, str) or not s or len(s) > 16:
        raise SeriesError('"symbol" must be a short name of the stable token')
    return s


def render(doc: dict, title: str | None = None, source: str = "", x: str = "auto") -> str:
    """The HTML page of a series or sweep document; SeriesError when it is neither.
    x: the series' x axis, "time", "height" or "auto" (x_axis)."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind == "series":
        return series_page(doc, title, source, x)
    if kind == "sweep":
        return sweep_page(doc, title, source)
    raise SeriesError('expected a document with "kind": "series" or "sweep"')


def series_figures(doc: dict, x_mode: str = "auto") -> dict:
    """The figures of a series document by plot id (matplotlib Figures), and the x label."""
    rows = series.rows_of(doc)
    if not rows:
        raise SeriesError("the series has no rows")
    columns, decimals, symbol = doc["columns"], _decimals(doc), _symbol(doc)
    x = x_axis(rows, x_mode)
    return {
        "prices": plot_prices(rows, columns, x, decimals, symbol),
        "nav": plot_nav(rows, columns, x, decimals, symbol),
        "stable": plot_stable(rows, x, decimals, symbol),
        "reserve": plot_reserve(rows, x, decimals, symbol),
        "oracle": plot_oracle(rows, columns, x, decimals, symbol),
        "exits": plot_exits(rows, x),
    }


def series_page(doc: dict, title: str | None = None, source: str = "", x_mode: str = "auto") -> str:
    figs = series_figures(doc, x_mode)
    rows = series.rows_of(doc)
    columns, decimals, symbol = doc["columns"], _decimals(doc), _symbol(doc)
    first, last = rows[0], rows[-1]
    title = title or f"rwachain run: {doc.get('chainId') or 'chain'}, heights {first['height']}..{last['height']}"
    xlabel = x_axis(rows, x_mode).label
    hint = (" Most blocks fall close together in time: `rwad report --x height` spreads them out."
            if clustered(rows) and xlabel != "block height" else "")
    body = [f'<p class="note">Source: {html.escape(source or "a series document")}; chain '
            f'{html.escape(str(doc.get("chainId", "")))}; {len(rows)} blocks, heights {first["height"]}..'
            f'{last["height"]}, block time {html.escape(readable("unix", first["time"], 0))} to '
            f'{html.escape(readable("unix", last["time"], 0))}. Every value is the state after a block, drawn as '
            f'steps that hold it until the next change; x: {html.escape(xlabel)}. Amounts in whole '
            f'{html.escape(symbol)} (10^{decimals} base units), ratios and rates in %. Time to exit: instant exits '
            f'take no time, a market sale waits from the placement of its sell order to its fill '
            f'(docs/outputs.md).{html.escape(hint)}</p>']
    for name, (heading, caption) in PLOTS.items():
        body.append(figure_html(name, heading, caption, png_uri(figs[name])))
    body.append(f"<h2>Final values (height {last['height']})</h2>")
    body.append(_scroll(final_table(last, columns, decimals)))
    return _page(title, body)


def final_table(row: series.Row, columns: list[str], decimals: int) -> str:
    """The row as a table: column, unit, the exact value (cell id "final-<column>"), readable."""
    out = ['<table id="final-values">', '<tr><th class="name">column</th><th>unit</th><th>value</th>'
           '<th>readable</th></tr>']
    for c in columns:
        v = row.get(c)
        unit = series.unit_of(c)
        cid = html.escape(f"final-{c}", quote=True)
        out.append(f'<tr><td class="name">{html.escape(c)}</td><td>{html.escape(unit)}</td>'
                   f'<td id="{cid}">{"" if v is None else v}</td>'
                   f'<td>{html.escape(readable(unit, v, decimals))}</td></tr>')
    out.append("</table>")
    return "\n".join(out)


# ----- sweeps ---------------------------------------------------------------------------------
_NOT_METRICS = ("run", "seed", "seeds")
_UNITLESS = ("", "count", "index", "seed", "height")


def sweep_layout(doc: dict) -> tuple[list[str], list[str], list[list[Any]]]:
    """(parameters, metrics, rows) of a sweep document (docs/outputs.md): parameters are
    doc["parameters"], else the columns before "seed"; metrics are doc["metrics"], else
    every column that is neither a parameter nor "seed"/"seeds" and holds a number."""
    cols, rows = doc.get("columns"), doc.get("rows")
    if not isinstance(cols, list) or not cols or not all(isinstance(c, str) for c in cols):
        raise SeriesError('a sweep needs "columns": a list of names')
    if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == len(cols) for r in rows):
        raise SeriesError(f'a sweep needs "rows": lists of {len(cols)} values')
    params = doc.get("parameters")
    if params is None:
        if "seed" not in cols:
            raise SeriesError('name the swept parameters in "parameters" (or put them before a "seed" column)')
        params = cols[:cols.index("seed")]
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise SeriesError('"parameters" must be a list of column names')
    metrics = doc.get("metrics")
    if metrics is None:
        metrics = [c for i, c in enumerate(cols) if c not in params and c not in _NOT_METRICS
                   and any(not math.isnan(_number(r[i])) for r in rows)]
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise SeriesError('"metrics" must be a list of column names')
    unknown = [c for c in list(params) + list(metrics) if c not in cols]
    if unknown:
        raise SeriesError(f"not among the columns: {', '.join(unknown)}")
    if not params or not metrics:
        raise SeriesError("a sweep needs at least one parameter and one metric column")
    return list(params), list(metrics), rows


def _number(v: Any) -> float:
    """A sweep cell as a float in its own unit (nan when it is not a number)."""
    if isinstance(v, str):
        try:
            v = int(v)
        except ValueError:
            try:
                v = float(v)
            except ValueError:
                return math.nan
    if isinstance(v, bool) or not isinstance(v, int | float):
        return math.nan
    return float(v)


def sweep_units(doc: dict) -> dict[str, str]:
    """The unit of each column: doc["units"], else SWEEP_UNITS by the last part of its name."""
    units = doc.get("units") or {}
    if not isinstance(units, dict):
        raise SeriesError('"units" must map column names to units')
    out = {}
    for c in doc["columns"]:
        tail = c.replace("/", ".").rsplit(".", 1)[-1]
        out[c] = units.get(c) or SWEEP_UNITS.get(c) or SWEEP_UNITS.get(tail, "")
    return out


def display(unit: str, cells: Sequence[Any], decimals: int, symbol: str = DEFAULT_SYMBOL
            ) -> tuple[list[float], str]:
    """Cells of one column in a human unit, and that unit: wad as %, base units as whole tokens
    (thousand, million, ... when large), seconds as days, hours or minutes; nan for non-numbers."""
    nums = [_number(v) for v in cells]
    if unit == "wad":
        return [v * 100 / WAD for v in nums], "%"
    if unit == "base":
        (vals,), label = amounts([[v / 10**decimals for v in nums]], symbol)
        return vals, label
    if unit == "s":
        size, name = time_unit(nums)
        return [v / size for v in nums], name
    return nums, "" if unit in _UNITLESS else unit


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def _fmt(v: float) -> str:
    """A display value, short: at most 4 significant digits, thousands separated."""
    if math.isnan(v):
        return "-"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.4g}" if abs(v) >= 1 else f"{v:.3g}"


class Sweep:
    """A sweep document read for plotting: its runs, which parameters vary, units, seeds."""

    def __init__(self, doc: dict):
        self.params, self.metrics, self.rows = sweep_layout(doc)
        self.cols = doc["columns"]
        self.units = sweep_units(doc)
        self.decimals, self.symbol = _decimals(doc), _symbol(doc)
        self.varied = [p for p in self.params if p not in _NOT_METRICS
                       and len({repr(r[self.cols.index(p)]) for r in self.rows}) > 1]
        self.constant = [p for p in self.params if p not in self.varied and p not in _NOT_METRICS]
        self.seeds = (len({repr(r[self.cols.index("seed")]) for r in self.rows}) if "seed" in self.cols else 0)

    def column(self, name: str) -> tuple[list[float], str]:
        return display(self.units.get(name, ""), [r[self.cols.index(name)] for r in self.rows], self.decimals,
                       self.symbol)

    def cell(self, name: str, v: Any) -> str:
        (d,), unit = display(self.units.get(name, ""), [v], self.decimals, self.symbol)
        if math.isnan(d):
            return "-" if v is None else str(v)
        return f"{_fmt(d)} {unit}".strip()

    def spread(self) -> str:
        """What the band and the line of a sweep plot are, in words."""
        if self.seeds > 1:
            return f"the line is the mean over {self.seeds} seeds, the band the lowest to the highest seed"
        if "seeds" in self.cols:
            return "one value per point, as the sweep aggregated it over its seeds (no spread over seeds to show)"
        return "one run per point (no spread over seeds to show)"


def sweep_figure(sw: Sweep, metric: str):
    """One panel per varied parameter (y shared): at each of its values the mean of the metric
    over the runs (seeds), and a band from their minimum to their maximum. When other parameters
    vary too, one line per setting of them (pooled when there are more than MAX_SWEEP_LINES)."""
    from matplotlib.patches import Patch

    fig, axes = _figure(1, len(sw.varied), height=3.4, sharex=False, sharey=True)
    ys, yunit = sw.column(metric)
    for ax, p in zip(axes, sw.varied, strict=True):
        xs, xunit, cats = _param_axis(sw, p)
        others = [q for q in sw.varied if q != p]
        lines = _lines(sw, others)
        pooled = len(lines) > MAX_SWEEP_LINES
        banded = False
        for n, idx in enumerate([list(range(len(sw.rows)))] if pooled else lines):
            gx, mean, lo, hi = spread_at(xs, ys, idx)
            if not gx:
                continue
            color = f"C{n % 10}"
            if any(h > low for low, h in zip(lo, hi, strict=True)):
                banded = True
                ax.fill_between(gx, lo, hi, color=color, alpha=0.13, linewidth=0.6, edgecolor=color)
            label = ("mean" if not others else "mean over every setting of " + ", ".join(others) if pooled
                     else ", ".join(f"{q} = {sw.cell(q, _raw(sw, idx[0], q))}" for q in others))
            ax.plot(gx, mean, marker="o", markersize=4, color=color, label=label)
        if not ax.get_lines():
            _empty(ax, "no numeric values")
        if cats:
            ax.set_xticks(range(len(cats)), cats)
        ax.set_xlabel(_label(p, xunit))
        _plain(ax)
        band = "min-max over seeds" + (" and pooled settings" if pooled else "")
        _legend(ax, extra=[(Patch(color="#999", alpha=0.35), band)] if banded else (), below=True)
    axes[0].set_ylabel(_label(metric, yunit))
    return fig


def _lines(sw: Sweep, others: list[str]) -> list[list[int]]:
    """The runs grouped by their values of the other varied parameters (row indexes), in the
    order of those values."""
    groups: dict[tuple, list[int]] = {}
    for i, r in enumerate(sw.rows):
        groups.setdefault(tuple(repr(r[sw.cols.index(q)]) for q in others), []).append(i)
    return sorted(groups.values(), key=lambda idx: [_order(_raw(sw, idx[0], q)) for q in others])


def spread_at(xs: Sequence[float], ys: Sequence[float], idx: Iterable[int]
              ) -> tuple[list[float], list[float], list[float], list[float]]:
    """Over the runs idx: the distinct x values in order, and at each the mean, minimum and
    maximum of y (runs without a number are left out)."""
    at: dict[float, list[float]] = {}
    for i in idx:
        if not math.isnan(xs[i]) and not math.isnan(ys[i]):
            at.setdefault(xs[i], []).append(ys[i])
    gx = sorted(at)
    return gx, [sum(at[g]) / len(at[g]) for g in gx], [min(at[g]) for g in gx], [max(at[g]) for g in gx]


def _order(v: Any) -> tuple[int, float, str]:
    """A sort key for parameter values: numbers by value, before the rest by text."""
    n = _number(v)
    return (1, 0.0, str(v)) if math.isnan(n) else (0, n, "")


def _raw(sw: Sweep, i: int, name: str) -> Any:
    return sw.rows[i][sw.cols.index(name)]


def _param_axis(sw: Sweep, p: str) -> tuple[list[float], str, list[str]]:
    """x values of a parameter in its human unit, that unit, and the categories when it is not a number."""
    raw = [_raw(sw, i, p) for i in range(len(sw.rows))]
    if all(not math.isnan(_number(v)) for v in raw if v is not None):
        xs, unit = sw.column(p)
        return xs, unit, []
    cats = sorted({str(v) for v in raw}, key=_order)
    return [float(cats.index(str(v))) for v in raw], "", cats


def sweep_caption(sw: Sweep, metric: str) -> str:
    """One line: what the figure of a metric shows and how to read it."""
    _, unit = sw.column(metric)
    return (f"How {_label(metric, unit)} moves with {', '.join(sw.varied)}: {sw.spread()}; "
            f"a flat line means the parameter does not matter for it over this range.")


def sweep_page(doc: dict, title: str | None = None, source: str = "") -> str:
    sw = Sweep(doc)
    title = title or f"rwachain sweep over {', '.join(sw.varied or sw.params)}"
    held = "; ".join(f"{p} = {sw.cell(p, _raw(sw, 0, p))}" for p in sw.constant) if sw.rows else ""
    body = [f'<p class="note">Source: {html.escape(source or "a sweep document")}; {len(sw.rows)} rows'
            f'{f", {sw.seeds} seeds" if sw.seeds else ""}; varied: {html.escape(", ".join(sw.varied) or "nothing")}'
            f'{"; held constant: " + html.escape(held) if held else ""}. Ratios in %, amounts in whole '
            f'{html.escape(sw.symbol)}; the exact values are in the table below and in the sweep file.</p>']
    if not sw.varied:
        body.append('<p class="note">No parameter varies across the runs: there is nothing to plot against.</p>')
    else:
        for m in sw.metrics:
            _, unit = sw.column(m)
            body.append(figure_html(m, _label(m, unit), sweep_caption(sw, m), png_uri(sweep_figure(sw, m))))
    body.append("<h2>Runs</h2>")
    body.append(_scroll(sweep_table(sw)))
    return _page(title, body)


def _breakable(name: str) -> str:
    """A column name, escaped, that a narrow header may wrap after a dot or inside camelCase."""
    return re.sub(r"([a-z])([A-Z])", r"\1<wbr>\2", html.escape(name).replace(".", ".<wbr>"))


def sweep_table(sw: Sweep) -> str:
    """Every run: the unit in each header, cells in that unit, the exact value as the cell's title."""
    shown = {c: sw.column(c) for c in sw.cols}
    heads = [_breakable(_label(c, shown[c][1])) for c in sw.cols]
    out = ['<table id="sweep-table">', "<tr>" + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"]
    for i, r in enumerate(sw.rows):
        cells = []
        for c, v in zip(sw.cols, r, strict=True):
            d = shown[c][0][i]
            text = ("-" if v is None else str(v)) if math.isnan(d) else _fmt(d)
            cells.append(f'<td title="{html.escape("" if v is None else str(v), quote=True)}">{html.escape(text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)
