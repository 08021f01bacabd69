"""Self-contained HTML reports of a run (docs/outputs.md).

One HTML file, nothing outside it: every plot is a PNG drawn with matplotlib's Agg
canvas and embedded as a data:image/png;base64 URI, the style sheet is inline, and there
is no script and no link. matplotlib is imported here only, when a report is drawn, so
the node never loads it.

A series report has the plots PLOTS (ids "plot-<name>") and the final row as a table
whose value cells have the ids "final-<column>" and hold the exact integer. A sweep
report plots every metric against every swept parameter (ids "plot-<metric>") and lists
the rows (table id "sweep-table").
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from typing import Any

from genesis import series
from genesis.series import SeriesError
from modules.oracle import feeds as oracle_feeds

PLOTS = {
    "prices": "Unit prices: last traded against computed (stable per unit)",
    "nav": "Pool NAV (stable)",
    "stable": "Stable supply, circulating supply and collateral ratio",
    "reserve": "Reserve holdings, epoch budget and its use",
    "oracle": "Oracle values",
    "exits": "Time to exit",
}
MAX_LINES = 12  # lines drawn per panel; more are left out (and said so in the legend)
WAD = 10**18
_CSS = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td.name, th.name { text-align: left; font-family: monospace; }
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


def _time_axis(rows: list[series.Row]) -> tuple[list[float], str]:
    """x values and their label: elapsed block time when the run spans an hour or more,
    else block heights (a fast devnet makes many blocks a second)."""
    t0 = rows[0]["time"]
    span = rows[-1]["time"] - t0
    if span < 3600:
        return [float(r["height"]) for r in rows], "block height"
    size, name = (86_400, "days") if span >= 3 * 86_400 else (3600, "hours")
    return [(r["time"] - t0) / size for r in rows], f"time since the first block ({name})"


def _wait_unit(waits: Sequence[float]) -> tuple[float, str]:
    top = max([w for w in waits if not math.isnan(w)], default=0.0)
    for size, name in ((86_400, "days"), (3600, "hours"), (60, "minutes")):
        if top >= 2 * size:
            return size, name
    return 1.0, "seconds"


# ----- drawing --------------------------------------------------------------------------------
def _figure(nrows: int = 1, ncols: int = 1, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, height * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def png_uri(fig) -> str:
    """The figure as a data:image/png;base64 URI (no metadata: nothing names a web address)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _legend(ax, left_out: int = 0) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if left_out:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], linestyle="none"))
        labels.append(f"(+{left_out} more not drawn)")
    if handles:
        ax.legend(handles, labels, fontsize=7, loc="best")


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777")


def _cols(columns: list[str], prefix: str) -> list[str]:
    return [c for c in columns if c.startswith(prefix)]


def _values(rows, col, unit, decimals) -> list[float]:
    return [scale(unit, r.get(col), decimals) for r in rows]


def plot_prices(rows, columns, x, xlabel, decimals) -> str:
    fig, (ax,) = _figure()
    units = [c[len("price.computed:"):] for c in _cols(columns, "price.computed:")]
    shown = units[:MAX_LINES // 2]
    for i, u in enumerate(shown):
        color = f"C{i % 10}"
        ax.plot(x, _values(rows, f"price.computed:{u}", "base", decimals), color=color, label=f"{u} computed")
        ax.plot(x, _values(rows, f"price.traded:{u}", "base", decimals), color=color, linestyle="--",
                drawstyle="steps-post", marker=".", markersize=3, label=f"{u} last traded")
    if not units:
        _empty(ax, "no tranche units on this chain")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("stable per unit")
    _legend(ax, len(units) - len(shown))
    return png_uri(fig)


def plot_nav(rows, columns, x, xlabel, decimals) -> str:
    fig, (ax,) = _figure()
    pools = _cols(columns, "pool.nav:")
    for c in pools[:MAX_LINES]:
        ax.plot(x, _values(rows, c, "base", decimals), label=f"pool {c[len('pool.nav:'):]}")
    if not pools:
        _empty(ax, "no pools on this chain")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("stable")
    _legend(ax, max(0, len(pools) - MAX_LINES))
    return png_uri(fig)


def plot_stable(rows, x, xlabel, decimals) -> str:
    fig, (a1, a2) = _figure(2, 1, height=2.8)
    a1.plot(x, _values(rows, "stable.supply", "base", decimals), label="supply")
    a1.plot(x, _values(rows, "stable.circulating", "base", decimals), label="circulating")
    a1.plot(x, _values(rows, "stable.backing", "base", decimals), label="backing", linestyle=":")
    a1.set_ylabel("stable")
    _legend(a1)
    a2.plot(x, [v * 100 for v in _values(rows, "stable.cr", "wad", decimals)], color="C3", label="CR")
    a2.axhline(100, color="#999", linewidth=0.8, linestyle="--")
    a2.set_ylabel("collateral ratio (%)")
    a2.set_xlabel(xlabel)
    return png_uri(fig)


def plot_reserve(rows, x, xlabel, decimals) -> str:
    fig, (a1, a2) = _figure(2, 1, height=2.8)
    for col, label in (("reserve.value", "holdings value"), ("reserve.budget", "epoch budget"),
                       ("reserve.used", "budget used")):
        a1.plot(x, _values(rows, col, "base", decimals), label=label)
    a1.set_ylabel("stable")
    _legend(a1)
    use = [(u / b * 100) if b else math.nan for u, b in zip(
        [r.get("reserve.used") or 0 for r in rows], [r.get("reserve.budget") or 0 for r in rows], strict=True)]
    a2.plot(x, use, color="C3")
    a2.set_ylim(0, 105)
    a2.set_ylabel("budget used (%)")
    a2.set_xlabel(xlabel)
    return png_uri(fig)


def plot_oracle(rows, columns, x, xlabel, decimals) -> str:
    feeds = [c[len("oracle:"):] for c in _cols(columns, "oracle:")]
    classes: dict[str, list[str]] = {c: [] for c in oracle_feeds.CLASSES}
    for f in feeds:
        classes.setdefault(oracle_feeds.class_of(f), []).append(f)
    classes = {c: fs for c, fs in classes.items() if fs}
    n = max(1, len(classes))
    fig, axes = _figure(n, 1, height=2.4)
    if not classes:
        _empty(axes[0], "no oracle feeds on this chain")
    for ax, (cls, fs) in zip(axes, classes.items(), strict=False):
        unit = series.unit_of(f"oracle:{fs[0]}")
        factor = 100.0 if unit == "wad" and cls != "price" else 1.0
        for f in fs[:MAX_LINES]:
            ax.plot(x, [v * factor for v in _values(rows, f"oracle:{f}", unit, decimals)], label=f,
                    drawstyle="steps-post")
        ax.set_ylabel({"grade": "grade (0 = A)", "base": "stable"}.get(unit, "%" if factor == 100 else cls))
        ax.set_title(cls, fontsize=9, loc="left")
        _legend(ax, max(0, len(fs) - MAX_LINES))
    axes[-1].set_xlabel(xlabel)
    return png_uri(fig)


def plot_exits(rows, x, xlabel) -> str:
    fig, (a1, a2) = _figure(2, 1, height=2.8)
    avg = [(r["exits.marketWaitSum"] / r["exits.marketWaitQuantity"]) if r.get("exits.marketWaitQuantity")
           else math.nan for r in rows]
    mx = [math.nan if r.get("exits.marketWaitMax") is None else float(r["exits.marketWaitMax"]) for r in rows]
    size, name = _wait_unit(mx)
    inst = [0.0 if r.get("exits.instant") else math.nan for r in rows]
    a1.plot(x, inst, linestyle="none", marker="v", color="C2", label="instant exit (stable.exit): 0")
    a1.plot(x, [v / size for v in avg], linestyle="none", marker="o", color="C0",
            label="market sale: average wait of the filled sell orders")
    a1.plot(x, [v / size for v in mx], linestyle="none", marker="x", color="C3", label="market sale: longest wait")
    a1.set_ylabel(f"time to exit ({name})")
    if all(math.isnan(v) for v in inst + avg + mx):
        _empty(a1, "no exits in this run")
    _legend(a1)
    ci = cm = 0
    cum_i, cum_m = [], []
    for r in rows:
        ci += r.get("exits.instantQuantity") or 0
        cm += r.get("exits.marketQuantity") or 0
        cum_i.append(ci)
        cum_m.append(cm)
    a2.plot(x, cum_i, color="C2", label="units exited instantly", drawstyle="steps-post")
    a2.plot(x, cum_m, color="C0", label="units sold on the market", drawstyle="steps-post")
    a2.set_ylabel("units (cumulative)")
    a2.set_xlabel(xlabel)
    _legend(a2)
    return png_uri(fig)


# ----- pages ----------------------------------------------------------------------------------
def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(title)}</h1>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def _img(pid: str, caption: str, uri: str) -> str:
    return (f'<h2>{html.escape(caption)}</h2>\n<figure><img id="plot-{html.escape(pid, quote=True)}" '
            f'alt="{html.escape(caption, quote=True)}" src="{uri}"></figure>')


def _decimals(doc: dict) -> int:
    d = doc.get("decimals", series.DEFAULT_DECIMALS)
    if type(d) is not int or not 0 <= d <= 30:
        raise SeriesError('"decimals" must be an integer in [0, 30]')
    return d


def render(doc: dict, title: str | None = None, source: str = "") -> str:
    """The HTML page of a series or sweep document; SeriesError when it is neither."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind == "series":
        return series_page(doc, title, source)
    if kind == "sweep":
        return sweep_page(doc, title, source)
    raise SeriesError('expected a document with "kind": "series" or "sweep"')


def series_page(doc: dict, title: str | None = None, source: str = "") -> str:
    rows = series.rows_of(doc)
    if not rows:
        raise SeriesError("the series has no rows")
    columns = doc["columns"]
    decimals = _decimals(doc)
    x, xlabel = _time_axis(rows)
    first, last = rows[0], rows[-1]
    title = title or f"rwachain run: {doc.get('chainId') or 'chain'}, heights {first['height']}..{last['height']}"
    body = [f'<p class="note">Source: {html.escape(source or "a series document")}; chain '
            f'{html.escape(str(doc.get("chainId", "")))}; {len(rows)} rows, heights {first["height"]}..'
            f'{last["height"]}, block time {html.escape(readable("unix", first["time"], 0))} to '
            f'{html.escape(readable("unix", last["time"], 0))}. Amounts in whole stable tokens '
            f'(10^{decimals} base units); time to exit: instant exits take no time, a market sale waits from '
            f'the placement of its sell order to its fill (docs/outputs.md).</p>']
    pngs = {
        "prices": plot_prices(rows, columns, x, xlabel, decimals),
        "nav": plot_nav(rows, columns, x, xlabel, decimals),
        "stable": plot_stable(rows, x, xlabel, decimals),
        "reserve": plot_reserve(rows, x, xlabel, decimals),
        "oracle": plot_oracle(rows, columns, x, xlabel, decimals),
        "exits": plot_exits(rows, x, xlabel),
    }
    for name, caption in PLOTS.items():
        body.append(_img(name, caption, pngs[name]))
    body.append(f"<h2>Final values (height {last['height']})</h2>")
    body.append(final_table(last, columns, decimals))
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
def sweep_layout(doc: dict) -> tuple[list[str], list[str], list[list[Any]]]:
    """(parameters, metrics, rows) of a sweep document (docs/outputs.md): parameters are
    doc["parameters"], else the columns before "seed"; metrics are doc["metrics"], else
    every column that is neither a parameter nor "seed"."""
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
    metrics = doc.get("metrics")
    if metrics is None:
        metrics = [c for c in cols if c not in params and c != "seed"]
    unknown = [c for c in list(params) + list(metrics) if c not in cols]
    if unknown:
        raise SeriesError(f"not among the columns: {', '.join(unknown)}")
    if not params or not metrics:
        raise SeriesError("a sweep needs at least one parameter and one metric column")
    return list(params), list(metrics), rows


def _number(v: Any, unit: str = "", decimals: int = 0) -> float:
    """A sweep cell as a float in its display unit (nan when it is not a number)."""
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
    if isinstance(v, int):
        return scale(unit, v, decimals)
    return v / WAD if unit == "wad" else v / 10**decimals if unit == "base" else v


def plot_metric(rows, cols, params, metric, units, decimals) -> str:
    fig, axes = _figure(1, len(params), height=3.2)
    mi = cols.index(metric)
    for ax, p in zip(axes, params, strict=True):
        pi = cols.index(p)
        raw_x = [r[pi] for r in rows]
        numeric = all(not math.isnan(_number(v)) for v in raw_x if v is not None)
        if numeric:
            xs = [_number(v, units.get(p, ""), decimals) for v in raw_x]
        else:
            cats = sorted({str(v) for v in raw_x})
            xs = [float(cats.index(str(v))) for v in raw_x]
            ax.set_xticks(range(len(cats)), cats)
        ys = [_number(r[mi], units.get(metric, ""), decimals) for r in rows]
        ax.plot(xs, ys, linestyle="none", marker="o", alpha=0.6, label="runs (seeds)")
        groups: dict[float, list[float]] = {}
        for xv, yv in zip(xs, ys, strict=True):
            if not math.isnan(xv) and not math.isnan(yv):
                groups.setdefault(xv, []).append(yv)
        if groups:
            gx = sorted(groups)
            ax.plot(gx, [sum(groups[g]) / len(groups[g]) for g in gx], color="C3", label="mean")
        else:
            _empty(ax, "no numeric values")
        ax.set_xlabel(p)
        ax.set_ylabel(metric)
        _legend(ax)
    return png_uri(fig)


def sweep_page(doc: dict, title: str | None = None, source: str = "") -> str:
    params, metrics, rows = sweep_layout(doc)
    cols = doc["columns"]
    units = doc.get("units") or {}
    if not isinstance(units, dict):
        raise SeriesError('"units" must map column names to units')
    decimals = _decimals(doc)
    title = title or f"rwachain sweep: {', '.join(metrics)} against {', '.join(params)}"
    body = [f'<p class="note">Source: {html.escape(source or "a sweep document")}; {len(rows)} runs; '
            f'parameters: {html.escape(", ".join(params))}; metrics: {html.escape(", ".join(metrics))}.</p>']
    for m in metrics:
        body.append(_img(m, f"{m} against {', '.join(params)}", plot_metric(rows, cols, params, m, units,
                                                                             decimals)))
    body.append("<h2>Runs</h2>")
    out = ['<table id="sweep-table">', "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{'' if v is None else html.escape(str(v))}</td>" for v in r) + "</tr>")
    out.append("</table>")
    body.append("\n".join(out))
    return _page(title, body)
