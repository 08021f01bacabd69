"""The Python client of a node's JSON-RPC: ``Client`` (blocking) and ``AsyncClient`` (trio),
with typed errors; subscriptions over WebSocket (rpc/client/ws.py).

    from rwachain.rpc.client import Client

This is the package's public name: the classes live in rpc/client/clients.py and
rpc/client/errors.py."""

from rwachain.rpc.client.clients import AsyncClient, Client
from rwachain.rpc.client.errors import (
    DevOnly,
    HeightUnavailable,
    InvalidParams,
    InvalidState,
    MempoolRefused,
    MethodNotFound,
    NotFound,
    RpcError,
    Timeout,
    TransportError,
    TxRefused,
)

__all__ = ["AsyncClient", "Client", "DevOnly", "HeightUnavailable", "InvalidParams", "InvalidState",
           "MempoolRefused", "MethodNotFound", "NotFound", "RpcError", "Timeout", "TransportError",
           "TxRefused"]
