"""The typed errors of the Python clients (rpc/client/clients.py, rpc/client/ws.py): what the node's
JSON-RPC error objects become, and TransportError for a node that cannot be reached."""

from __future__ import annotations

from typing import Any

from rwachain.rpc import errors as codes
from rwachain.rpc.errors import RpcError as _BaseRpcError


class TransportError(Exception):
    """The node could not be reached, or answered with something that is not JSON-RPC."""


class RpcError(_BaseRpcError):
    """An error object returned by the node: .code, .message, .data (JSON-RPC 2.0)."""

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"


class InvalidParams(RpcError):
    """-32602: a parameter is missing, unknown or of the wrong type."""


class MethodNotFound(RpcError):
    """-32601: no such method."""


class NotFound(RpcError):
    """-32001: no such block, transaction or receipt (yet)."""


class HeightUnavailable(RpcError):
    """-32002: the height is pruned or not produced yet."""


class MempoolRefused(RpcError):
    """-32003: the mempool refused the transaction; .reason is full, known, underpriced or
    account_full."""

    @property
    def reason(self) -> str | None:
        return self.data.get("reason") if isinstance(self.data, dict) else None


class Timeout(RpcError):
    """-32004: tx_sendAndWait gave up waiting; the transaction (.hash) is still pending."""

    @property
    def hash(self) -> str | None:
        return self.data.get("hash") if isinstance(self.data, dict) else None


class DevOnly(RpcError):
    """-32005: a dev_* method on a node that is not a devnet."""


class InvalidState(RpcError):
    """-32006: the request conflicts with the chain's state (e.g. setting time backwards)."""


class TxRefused(RpcError):
    """code >= 1000: the transaction was refused or failed; code = 1000 + .tx_code, .name is
    the stable error name of docs/protocol.md ("replayed_nonce", "fee_too_low", ...)."""

    @property
    def tx_code(self) -> int:
        return self.code - codes.TX_ERROR_BASE

    @property
    def name(self) -> str:
        if isinstance(self.data, dict) and isinstance(self.data.get("name"), str):
            return self.data["name"]
        return f"tx_error_{self.tx_code}"

    def __str__(self) -> str:
        return f"{self.name}: {self.message} (code {self.code})"


_ERROR_CLASSES: dict[int, type[RpcError]] = {
    codes.INVALID_PARAMS: InvalidParams,
    codes.METHOD_NOT_FOUND: MethodNotFound,
    codes.NOT_FOUND: NotFound,
    codes.HEIGHT_UNAVAILABLE: HeightUnavailable,
    codes.MEMPOOL_REFUSED: MempoolRefused,
    codes.TIMEOUT: Timeout,
    codes.DEV_ONLY: DevOnly,
    codes.INVALID_STATE: InvalidState,
}


def error_from_obj(err: Any) -> RpcError:
    """The typed exception for a JSON-RPC error object."""
    if not isinstance(err, dict) or type(err.get("code")) is not int:
        return RpcError(codes.INTERNAL_ERROR, f"malformed error object: {err!r}"[:300])
    code = err["code"]
    cls = TxRefused if code >= codes.TX_ERROR_BASE else _ERROR_CLASSES.get(code, RpcError)
    return cls(code, str(err.get("message", "")), err.get("data"))


