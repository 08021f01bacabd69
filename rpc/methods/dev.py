"""dev_ methods (devnet only): mine, set or move the clock, set a balance, snapshot and
revert, dump and load the whole chain."""

from __future__ import annotations

from rwachain.modules.bank import keeper
from rwachain.modules.core.app import dev_set_balance
from rwachain.node.service import MAX_TIME_JUMP, TimeTooFar
from rwachain.rpc.errors import DEV_ONLY, INVALID_PARAMS, INVALID_STATE, NOT_FOUND, RpcError
from rwachain.rpc.methods import encode as enc
from rwachain.rpc.methods import schemas as S
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.params import (
    ADDRESS,
    HEX,
    STRING,
    TIME,
    U64,
    UINT,
    Param,
    Result,
    bounded,
    rpc_method,
)


def _dev(api: Api) -> None:
    if not api.node.options.dev:
        raise RpcError(DEV_ONLY, "dev_* methods exist only on a devnet (rwad devnet)")


@rpc_method("dev_mine", [Param("blocks", bounded(0, 1000), "how many blocks (default 1, at most 1000)", required=False,
                               default=1),
                         Param("time", TIME, "block time, unix seconds (default: the node's clock)", required=False)],
            Result("heights", S.arr(S.INT)), "Produce blocks now with what is ready.", dev_only=True)
async def dev_mine(api: Api, blocks: int, time: int | None):
    _dev(api)
    if blocks > 1000:
        raise RpcError(INVALID_PARAMS, "invalid params: blocks: at most 1000 per call")
    if time is not None and time < api.chain.last_time():
        raise RpcError(INVALID_STATE, "time never goes backwards")
    if time is not None and time > api.node.latest_allowed_time():
        raise _too_far("time", api.node.latest_allowed_time())
    mined = await api.node.mine(blocks, time)
    return [b.header.height for b in mined]


@rpc_method("dev_setTime", [Param("time", TIME, "unix seconds, below 2^53")], Result("time", S.INT),
            "Set the node's clock (never before the last block).", dev_only=True, errors=[INVALID_STATE])
async def dev_set_time(api: Api, time: int):
    _dev(api)
    try:
        return api.node.set_time(time)
    except TimeTooFar as exc:
        raise _too_far("time", exc.args[0]) from None
    except ValueError as exc:
        raise RpcError(INVALID_STATE, str(exc)) from None


def _too_far(param: str, latest: int) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {param}: at most {MAX_TIME_JUMP} s (100 years) past the "
                                    f"last block, i.e. {latest}")


@rpc_method("dev_advanceTime", [Param("seconds", U64, "seconds to move forward")], Result("time", S.INT),
            "Move the node's clock forward.", dev_only=True)
async def dev_advance_time(api: Api, seconds: int):
    _dev(api)
    target = api.node.now() + seconds
    if target > api.node.latest_allowed_time():
        raise _too_far("seconds", api.node.latest_allowed_time())
    return api.node.set_time(target)


@rpc_method("dev_setBalance", [Param("address", ADDRESS, "account"), Param("denom", STRING, "denomination"),
                               Param("amount", UINT, "new balance, base units")],
            Result("height", S.INT),
            "Set a balance (supply follows) in a block of its own, so replay reproduces it.", dev_only=True)
async def dev_set_balance_(api: Api, address: bytes, denom: str, amount: int):
    _dev(api)
    if keeper.denom_info(api.app.reader(), denom) is None:
        raise RpcError(INVALID_PARAMS, f"invalid params: denom: {denom!r} does not exist")
    block = await api.node.mine_entries([dev_set_balance(address, denom, amount)])
    return block.header.height


@rpc_method("dev_snapshot", [], Result("id", S.STR),
            "Snapshot the chain at its current height (pinned against pruning); revert to it any number of times, "
            "until the node stops.",
            dev_only=True)
async def dev_snapshot(api: Api):
    _dev(api)
    return await api.node.snapshot()


@rpc_method("dev_revert", [Param("id", STRING, "snapshot id from dev_snapshot")], Result("height", S.INT),
            "Rewind state, blocks, indexes and mempool to a snapshot; subscribers are told. Later snapshots are dropped.",
            dev_only=True, errors=[NOT_FOUND])
async def dev_revert(api: Api, id: str):
    _dev(api)
    try:
        return await api.node.revert(id)
    except KeyError:
        raise RpcError(NOT_FOUND, f"no snapshot {id!r}") from None


@rpc_method("dev_dumpState", [], Result("dump", S.HEXS),
            "The whole chain, history included, as 0x-hex (zlib-compressed msgpack key/value pairs).", dev_only=True)
async def dev_dump_state(api: Api):
    _dev(api)
    return enc.hx(await api.node.dump_state())


@rpc_method("dev_loadState", [Param("dump", HEX, "from dev_dumpState")], Result("height", S.INT),
            "Replace the chain with a dump (history included), atomically; returns the height. A dump that "
            "decompresses past --max-load-size is refused.", dev_only=True)
async def dev_load_state(api: Api, dump: bytes):
    _dev(api)
    try:
        return await api.node.load_state(dump)
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid params: dump: {exc}") from None
