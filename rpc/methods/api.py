"""What every RPC handler is given: `Api`, the running Node with state readers at a height
and the method table it serves; and `tx_error`, the JSON-RPC error of a refused transaction.

Handlers are async functions (api, **params) -> JSON value, one file per namespace
(rpc/methods/chain.py, tx.py, ...); rpc/methods/table.py collects them into the table.
Every query takes an optional height (recent heights only).
"""

from __future__ import annotations

from rwachain.modules.core.app import LAST_KEY
from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.modules.core.errors import InvalidTransaction
from rwachain.modules.core.tx import Tx
from rwachain.node.service import Node
from rwachain.rpc.errors import HEIGHT_UNAVAILABLE, NOT_FOUND, TX_ERROR_BASE, RpcError
from rwachain.rpc.methods.params import U64_MAX, Method
from rwachain.state.store import StoreError, VersionView


def tx_error(exc: InvalidTransaction) -> RpcError:
    return RpcError(TX_ERROR_BASE + exc.code, exc.message, {"name": exc.name, "txCode": exc.code})


class Api:
    """What handlers use: the node, state readers at a height, and the method table served
    (name -> Method; rpc.discover documents it)."""

    def __init__(self, node: Node, methods: dict[str, Method]):
        self.node = node
        self.chain = node.chain
        self.app = node.chain.app
        self.methods = methods

    def reader(self, height: int | None) -> Ctx:
        store = self.chain.store
        if height is None or height == store.version:
            return self.app.reader()
        if height > store.version:
            raise RpcError(HEIGHT_UNAVAILABLE, f"height {height} is not produced yet (head is {store.version})")
        try:
            view = VersionView(store, height)
        except StoreError as exc:
            raise RpcError(HEIGHT_UNAVAILABLE, str(exc)) from None
        last = Ctx(view, BlockInfo(height, 0, b"")).get_obj(LAST_KEY)
        return self.app.context(view, BlockInfo(height, last["time"], b""))  # with the App's wiring

    def call_args(self, t: Tx) -> list | None:
        """The argument specs of transaction t's call, or None when no module has that call."""
        mod = self.app.by_name.get(t.module)
        return mod.calls[t.call].args if mod and t.call in mod.calls else None

    def block_at(self, height: int):
        b = self.chain.blocks.block(height)
        if b is None:
            if self._is_genesis(height):
                raise RpcError(NOT_FOUND, f"no block at height {height}: height {height} is the genesis state, "
                                          "which has no block (the first block's parent is 32 zero bytes)")
            raise RpcError(NOT_FOUND, f"no block at height {height}")
        return b

    def _is_genesis(self, height: int) -> bool:
        """Whether height is the genesis state: the parent of the first block, or the head
        while no block exists."""
        if height == self.app.last_block()["height"]:
            return self.chain.head_hash() == bytes(32)
        after = self.chain.blocks.block(height + 1) if height < U64_MAX else None
        return after is not None and after.header.parent == bytes(32)
