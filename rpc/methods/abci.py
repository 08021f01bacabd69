"""The JSON-RPC method table in ABCI mode (`rwad abci`): the devnet's, less the dev_*
methods (CometBFT makes the blocks: they do not exist), with chain_status reporting
CometBFT's height and block hash beside the app's state root."""

from __future__ import annotations

import dataclasses
import functools

from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.chain import chain_status
from rwachain.rpc.methods.params import Method, Result
from rwachain.rpc.server.serve import serve_rpc

CONSENSUS = S.obj(engine=S.STR, height=S.INT, hash=S.nullable(S.HASH32))
STATUS = S.obj(**S.STATUS["properties"], consensus=CONSENSUS)


async def chain_status_abci(api) -> dict:
    """chain_status, and the block CometBFT committed last here: {engine, height, hash}."""
    head = api.node.consensus_head()
    return {**await chain_status(api),
            "consensus": {"engine": "cometbft", "height": head["height"],
                          "hash": enc.hx(head["hash"]) if head["hash"] else None}}


def abci_methods(methods: dict[str, Method]) -> dict[str, Method]:
    """The ABCI mode's table from the devnet's."""
    out = {name: m for name, m in methods.items() if not m.dev_only}
    out["chain_status"] = dataclasses.replace(
        methods["chain_status"], handler=chain_status_abci, result=Result("status", STATUS),
        summary="The head: chain id, height, block hash, state root, time; and CometBFT's height and block hash.")
    return out


serve_abci_rpc = functools.partial(serve_rpc, method_table=abci_methods)
