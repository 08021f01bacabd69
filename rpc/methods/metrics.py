"""chain_metrics: one row of per-block metrics (genesis/sim/series.py, docs/outputs.md)."""

from __future__ import annotations

from rwachain.genesis.sim import series
from rwachain.rpc.errors import HEIGHT_UNAVAILABLE, RpcError
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import HEIGHT, Result, rpc_method

ROW_SCHEMA = {"type": "object", "required": ["height", "time"], "properties": {
    "height": {"type": "integer"}, "time": {"type": "integer"}},
    "additionalProperties": {"type": ["string", "null"]}}


def metrics_at(api: Api, height: int | None) -> dict:
    """The row at a retained height (default: the head), exits counted from its receipts."""
    ctx = api.reader(height)
    h = ctx.block.height
    receipts = (api.chain.blocks.receipts(h) or []) if h > 0 else []
    events = [e for r in receipts for e in r["events"]]
    prev = None
    if h > 0:
        try:
            prev = api.reader(h - 1)
        except RpcError:
            prev = None  # the height before is pruned: waits of removed resting orders are unknown
    return series.json_row(series.sample(ctx, events, prev))


@rpc_method("chain_metrics", [HEIGHT], Result("row", ROW_SCHEMA),
            "Per-block metrics after a block: unit prices (last traded and computed), pool NAV, stable supply, "
            "circulating supply and CR, reserve value, budget and use, oracle values, exits in the block "
            "(docs/outputs.md).", errors=[HEIGHT_UNAVAILABLE])
async def chain_metrics(api: Api, height: int | None):
    return metrics_at(api, height)
