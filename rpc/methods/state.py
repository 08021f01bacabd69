"""state_ methods: raw state values with their proofs."""

from __future__ import annotations

from rwachain.rpc.errors import HEIGHT_UNAVAILABLE, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import HEIGHT, HEX, Param, Result, rpc_method
from rwachain.state.store import StoreError


@rpc_method("state_get", [Param("key", HEX, "raw state key"), HEIGHT],
            Result("entry", S.STATE_ENTRY),
            "A raw state value with its inclusion or exclusion proof (verify with state/proof.py).",
            errors=[HEIGHT_UNAVAILABLE])
async def state_get(api: Api, key: bytes, height: int | None):
    h = api.chain.store.version if height is None else height
    try:
        value, proof, root = api.app.query(key, h)
    except StoreError as exc:
        raise RpcError(HEIGHT_UNAVAILABLE, str(exc)) from None
    return {"height": h, "root": enc.hx(root), "value": None if value is None else enc.hx(value),
            "proof": {"nodes": [[bm, [enc.hx(x) for x in hs]] for bm, hs in proof["nodes"]],
                      "leaf": None if proof["leaf"] is None else [enc.hx(x) for x in proof["leaf"]]}}
