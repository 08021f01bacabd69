"""The plots of `rwad report` (rpc/cli/report.py): series drawn as steps at every change, x by
time or height, axes in human units with plain numbers, sweep panels only for varied
parameters with the mean and a min-max band over seeds, a caption under every figure."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser

import pytest

from rwachain.genesis.sim import series
from rwachain.modules.core.fixed import WAD
from rwachain.rpc.cli import report

DAY = 86_400
T0 = 1_767_225_600

RUSD = 10**6


def _series(rows: list[dict]) -> dict:
    return series.document([{"height": h, "time": t, **v} for h, t, v in rows], "rwa-test")


def _line(ax, label: str):
    return next(line for line in ax.get_lines() if line.get_label() == label)


def _xy(line) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in line.get_xydata()]


# ----- steps ------------------------------------------------------------------------------------------
def test_step_points_hold_each_value_until_its_change():
    assert report.step_points([0, 90, 91], [100, 50, 50]) == ([0, 90, 90, 91], [100, 100, 50, 50])
    assert report.step_points([0, 1, 2], [5, 5, 5]) == ([0, 2], [5, 5])  # no change: two points
    assert report.step_points([1, 2, 3], [5, 5, 7], end=4) == ([1, 3, 3, 4], [5, 5, 7, 7])
    xs, ys = report.step_points([0, 1, 2, 3, 4], [1, math.nan, math.nan, 2, 2])
    assert xs == [0, 1, 1, 3, 4] and ys[:2] == [1, 1] and math.isnan(ys[2]) and ys[3:] == [2, 2]  # a gap


def test_a_series_flat_for_90_days_then_jumping_is_drawn_with_the_jump_at_its_time():
    doc = _series([(1, T0, {"pool.nav:1": 100_000 * RUSD}),
                   (2, T0 + 90 * DAY, {"pool.nav:1": 40_000 * RUSD}),
                   (3, T0 + 91 * DAY, {"pool.nav:1": 40_000 * RUSD})])
    ax = report.series_figures(doc, "time")["nav"].axes[0]
    assert _xy(_line(ax, "pool 1")) == [(0, 100), (90, 100), (90, 40), (91, 40)]  # thousand RUSD
    assert ax.get_xlabel() == "days since the first block" and ax.get_ylabel() == "NAV (thousand RUSD)"
    by_height = report.series_figures(doc, "height")["nav"].axes[0]
    assert _xy(_line(by_height, "pool 1")) == [(1, 100), (2, 100), (2, 40), (4, 40)]  # block 3 holds to 4
    assert by_height.get_xlabel() == "block height" and by_height.get_xlim() == (1, 4)


def test_auto_x_is_time_for_a_long_run_and_height_for_a_fast_one():
    rows = [{"height": h, "time": T0 + h} for h in range(10)]
    assert report.x_axis(rows).label == "block height"
    rows = [{"height": h, "time": T0 + h * DAY} for h in range(10)]
    assert report.x_axis(rows).label == "days since the first block" and report.x_axis(rows).values[3] == 3.0
    with pytest.raises(series.SeriesError, match="x must be one of"):
        report.x_axis(rows, "blocks")


def test_clustered_blocks_are_noticed():
    rows = [{"height": h, "time": T0 + (h // 4) * 90 * DAY + h} for h in range(8)]
    assert report.clustered(rows)
    assert not report.clustered([{"height": h, "time": T0 + h * DAY} for h in range(8)])
    assert not report.clustered([{"height": h, "time": T0 + h * 3600} for h in range(240)])  # evenly hourly


def test_a_height_axis_marks_when_time_jumps():
    days = [0, 0, 0, 0, 90, 90, 180, 180]
    rows = [{"height": h + 1, "time": T0 + d * DAY + 60 * h} for h, d in enumerate(days)]
    assert report.time_marks(rows) == ((1.0, "0 d"), (5.0, "90 d"), (7.0, "180 d"))
    assert report.x_axis(rows, "height").marks == report.time_marks(rows)
    assert report.x_axis(rows, "time").marks == ()


# ----- units ------------------------------------------------------------------------------------------
def test_amounts_are_whole_tokens_with_a_magnitude_named_on_the_axis():
    assert report.magnitude([12_000_000.0, math.nan]) == (1e6, "million")
    assert report.magnitude([9_999.0]) == (1.0, "")
    assert report.amounts([[2_500_000_000.0], [0.0]], "RUSD") == ([[2.5], [0.0]], "billion RUSD")
    assert report.display("base", [str(12_000_000 * RUSD), None], 6)[1] == "million RUSD"
    vals, unit = report.display("wad", ["1500000000000000000", 3 * WAD // 100], 6)
    assert unit == "%" and vals == [150.0, 3.0]
    vals, unit = report.display("s", [3 * DAY, DAY], 6)
    assert unit == "days" and vals == [3.0, 1.0]


def test_axes_show_plain_numbers_without_offsets():
    """Heights near a million and supplies near 10^13 base units: no "+1e6" or "1e7" on the axes."""
    rows = [(1_000_000 + i, T0 + i, {"stable.supply": (31_000_000 + i) * RUSD, "stable.cr": (3 * WAD) // 2})
            for i in range(4)]
    fig = report.series_figures(_series(rows), "height")["stable"]
    fig.canvas.draw()
    top, bottom = fig.axes
    assert top.get_ylabel() == "million RUSD" and bottom.get_ylabel() == "collateral ratio (%)"
    assert _xy(_line(bottom, "collateral ratio"))[0] == (1_000_000, 150)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            assert axis.get_offset_text().get_text() == ""
            assert not any("e" in t.get_text().lower() for t in axis.get_ticklabels())


# ----- sweeps -----------------------------------------------------------------------------------------
def _sweep(varied_b: bool = False) -> dict:
    """discount varied (1, 3, 10 %), ceiling held (or varied), seeds 1..3; exitPrice (wad) and extra
    columns a newer sweep writes (run index, a configuration hash)."""
    rows, run = [], 0
    for d in (1, 3, 10):
        for c in ((1, 2) if varied_b else (2,)):
            for s in (1, 2, 3):
                price = WAD - d * WAD // 1000 - s * WAD // 100 - c
                rows.append([run, s, str(d * WAD // 100), str(c * 10**6 * RUSD), str(price), f"cfg{run}"])
                run += 1
    return {"kind": "sweep", "columns": ["run", "seed", "params.reserve.discount", "params.stable.ceilings.tranche",
                                         "exitPrice", "configHash"],
            "parameters": ["params.reserve.discount", "params.stable.ceilings.tranche"],
            "units": {"params.reserve.discount": "wad", "params.stable.ceilings.tranche": "base",
                      "exitPrice": "wad"}, "rows": rows}


def test_a_sweep_plot_draws_only_varied_parameters_with_the_mean_and_a_band_over_seeds():
    sw = report.Sweep(_sweep())
    assert sw.metrics == ["exitPrice"] and sw.varied == ["params.reserve.discount"] and sw.seeds == 3
    assert sw.constant == ["params.stable.ceilings.tranche"]
    fig = report.sweep_figure(sw, "exitPrice")
    (ax,) = fig.axes  # no panel for the ceiling held constant
    assert ax.get_xlabel() == "params.reserve.discount (%)" and ax.get_ylabel() == "exitPrice (%)"
    (mean,) = ax.get_lines()
    xs = [1.0, 3.0, 10.0]
    expect = [100 - d / 10 - 2 for d in xs]  # mean over seeds 1..3 of -s %: -2 %
    assert [p[0] for p in _xy(mean)] == xs
    assert all(abs(y - e) < 1e-9 for (_, y), e in zip(_xy(mean), expect, strict=True))
    (band,) = ax.collections
    ys = band.get_paths()[0].vertices[:, 1]
    assert abs(ys.max() - (100 - 0.1 - 1)) < 1e-9 and abs(ys.min() - (100 - 1 - 3)) < 1e-9  # seed 1 to seed 3
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "min-max over seeds" in labels and "mean" in labels


def test_with_two_varied_parameters_each_panel_draws_a_line_per_setting_of_the_other():
    sw = report.Sweep(_sweep(varied_b=True))
    fig = report.sweep_figure(sw, "exitPrice")
    a, b = fig.axes
    assert b.get_xlabel() == "params.stable.ceilings.tranche (million RUSD)"
    assert sorted(line.get_label() for line in a.get_lines()) == [
        "params.stable.ceilings.tranche = 1 million RUSD", "params.stable.ceilings.tranche = 2 million RUSD"]
    assert len(b.get_lines()) == 3 and len(a.collections) == 2


def test_a_sweep_table_names_units_in_headers_and_keeps_exact_values():
    doc = _sweep()
    page = report.render(doc, source="s.json")
    assert "exitPrice (%)" in page and "params.<wbr>stable.<wbr>ceilings.<wbr>tranche (million RUSD)" in page
    assert all(f'title="{v}"' in page for r in doc["rows"] for v in r)  # the exact value of every cell
    assert f'title="{doc["rows"][0][4]}">98.9</td>' in page  # in % (seed 1 at 1 %: 100 - 0.1 - 1)
    assert '<div class="scroll">' in page and "1e17" not in page and "held constant" in page


def test_a_sweep_of_one_row_per_point_draws_no_band():
    """The older layout: one row per grid point and a count of seeds, no "seed" column."""
    doc = {"kind": "sweep", "columns": ["discount", "seeds", "lowestCR"], "parameters": ["discount"],
           "metrics": ["lowestCR"], "rows": [[str(d * WAD // 100), 4, str(2 * WAD - d)] for d in (1, 3, 10)]}
    sw = report.Sweep(doc)
    (ax,) = report.sweep_figure(sw, "lowestCR").axes
    assert len(ax.collections) == 0 and [round(y) for _, y in _xy(ax.get_lines()[0])] == [200, 200, 200]
    assert "no spread over seeds" in report.sweep_caption(sw, "lowestCR")


# ----- captions ---------------------------------------------------------------------------------------
class _Figures(HTMLParser):
    """Per <figure>: the ids of its images and the text of its captions; images outside figures."""

    def __init__(self):
        super().__init__()
        self.figures: list[dict] = []
        self.loose_images = 0
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "figure":
            self.figures.append({"imgs": [], "captions": []})
            self._in = "figure"
        elif tag == "img":
            if self._in is None:
                self.loose_images += 1
            else:
                self.figures[-1]["imgs"].append(dict(attrs).get("id"))
        elif tag == "figcaption" and self._in:
            self.figures[-1]["captions"].append("")
            self._in = "caption"

    def handle_endtag(self, tag):
        if tag == "figure":
            self._in = None
        elif tag == "figcaption" and self._in:
            self._in = "figure"

    def handle_data(self, data):
        if self._in == "caption":
            self.figures[-1]["captions"][-1] += data


def _captions_ok(page: str) -> list[dict]:
    p = _Figures()
    p.feed(page)
    assert p.loose_images == 0 and p.figures
    for f in p.figures:
        assert len(f["imgs"]) == 1 and len(f["captions"]) == 1, f
        text = f["captions"][0]
        assert 20 < len(text) < 300 and "\n" not in text, text
    return p.figures


@pytest.mark.slow
def test_every_figure_has_a_one_line_caption():
    doc = _series([(1, T0, {"pool.nav:1": 100 * RUSD}), (2, T0 + DAY, {"pool.nav:1": 90 * RUSD})])
    figures = _captions_ok(report.render(doc))
    assert [f["imgs"][0] for f in figures] == [f"plot-{p}" for p in report.PLOTS]
    figures = _captions_ok(report.render(_sweep()))
    assert [f["imgs"][0] for f in figures] == ["plot-exitPrice"]
    assert "mean over 3 seeds" in figures[0]["captions"][0]


@pytest.mark.slow
def test_rwad_report_takes_the_x_axis_as_a_flag(tmp_path, capsys):
    from rwachain.rpc.cli import main as cli

    doc = _series([(1, T0, {"pool.nav:1": 100 * RUSD}), (2, T0 + 90 * DAY, {"pool.nav:1": 40 * RUSD}),
                   (3, T0 + 90 * DAY + 60, {"pool.nav:1": 40 * RUSD}), (4, T0 + 90 * DAY + 120, {})])
    (tmp_path / "s.json").write_text(json.dumps(doc))
    for x, words in (("height", "x: block height"), ("time", "x: days since the first block")):
        assert cli.main(["report", str(tmp_path / "s.json"), "--x", x, "--out", str(tmp_path / "r.html")]) == 0
        page = (tmp_path / "r.html").read_text()
        assert words in page
        assert ("--x height` spreads them out" in page) == (x == "time")  # the blocks cluster at day 90
    with pytest.raises(SystemExit):
        cli.main(["report", str(tmp_path / "s.json"), "--x", "blocks", "--out", str(tmp_path / "r.html")])
    capsys.readouterr()
