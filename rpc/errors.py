"""JSON-RPC error codes: the standard ones and rwachain's server codes (docs/rpc.md).

A refused or failed transaction maps to 1000 + its stable transaction error code
(modules/core/errors.py), with data {"name": ...}: e.g. bad_signature (6) is 1006.
"""

from __future__ import annotations

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# server codes
NOT_FOUND = -32001  # no such block, transaction or snapshot
HEIGHT_UNAVAILABLE = -32002  # pruned or future height
MEMPOOL_REFUSED = -32003  # mempool full, known, underpriced replacement, account limit
TIMEOUT = -32004  # tx_sendAndWait: not included in time (still pending)
DEV_ONLY = -32005  # dev_* method on a node that is not a devnet
INVALID_STATE = -32006  # e.g. dev_setTime backwards
RESPONSE_TOO_LARGE = -32007  # a reply (or a batch's replies together) past --max-response-bytes
TX_ERROR_BASE = 1000

SERVER_CODES = {
    NOT_FOUND: "not found: no such block, transaction or snapshot",
    HEIGHT_UNAVAILABLE: "height unavailable: pruned or not yet produced",
    MEMPOOL_REFUSED: "the mempool refused the transaction (data.reason: full, known, underpriced, account_full)",
    TIMEOUT: "not included before the timeout; the transaction is still pending",
    DEV_ONLY: "dev_* methods exist only on a devnet",
    INVALID_STATE: "the request conflicts with the chain's state",
    RESPONSE_TOO_LARGE: "response too large: the reply, or a batch's replies together, pass the node's limit",
}


class RpcError(Exception):
    def __init__(self, code: int, message: str, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_obj(self) -> dict:
        o = {"code": self.code, "message": self.message}
        if self.data is not None:
            o["data"] = self.data
        return o
