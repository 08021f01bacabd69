"""Python clients of an rwachain node's JSON-RPC: `Client` (blocking) and `AsyncClient` (trio).

    from rwachain.rpc.client.clients import Client
    with Client("http://127.0.0.1:8545") as c:
        c.chain_status()                              # any method of the table, by attribute
        c.bank_balance("rwa1...", "rwa")              # params by position ...
        c.account_get(address="rwa1...")              # ... or by name
        c.call("rpc.discover")                        # any method by name (dotted names too)
        c.batch([("chain_status", None), ("bank_supply", ["rwa"])])
        c.send_call(key, "bank", "transfer", {"to": "rwa1...", "denom": "rwa", "amount": "5"})
        for head in c.subscribe("newHeads"): ...      # WebSocket subscriptions (rpc/client/ws.py)

    async with AsyncClient("http://127.0.0.1:8545") as c:   # the same API, awaited
        await c.chain_status()

Both speak HTTP/1.1 with keep-alive (the blocking client over one http.client connection,
the async one over a small pool of trio TCP streams parsed by h11). Results are the JSON
values the node returns (docs: rpc/methods/params.py "JSON conventions": amounts as decimal
strings of base units, bytes as 0x-hex, addresses as rwa1... text). Errors the node
returns are raised as typed `RpcError` subclasses (below); failures to reach the node, or
answers that are not JSON-RPC, raise `TransportError`.

Units: fees and amounts are integers of base units (the native denom has 6 decimals on
the devnet: 1 RWA = 10^6 base units); timeouts are seconds; heights are block heights.
"""

from __future__ import annotations

import functools
import http.client
import inspect
import itertools
import json
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import h11
import trio

from rwachain.modules.core.args import check_args
from rwachain.modules.core.crypto import Keypair, encode_address
from rwachain.modules.core.errors import BadArguments
from rwachain.modules.core.tx import sign_tx
from rwachain.rpc import errors as codes
from rwachain.rpc.client.errors import (  # noqa: F401 (the errors are this module's names too)
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
    error_from_obj,
)
from rwachain.rpc.client.ws import AsyncSubscription, Subscription
from rwachain.rpc.methods.modules import chain_table
from rwachain.rpc.methods.params import ADDRESS, Method
from rwachain.state.codec import encode

DEFAULT_URL = "http://127.0.0.1:8545"
DEFAULT_TIMEOUT = 60.0  # seconds for one HTTP exchange (tx_sendAndWait gets its wait on top)
PROVISIONAL_FEE = 0xFFFF  # fee used to size a transaction before its fee is estimated
METHODS = chain_table()  # name -> Method: the specs the generated methods bind their parameters by


def bad_arguments(message: str) -> TxRefused:
    """The TxRefused the node would answer for bad call arguments (raised before sending)."""
    return TxRefused(codes.TX_ERROR_BASE + BadArguments.code, message,
                     {"name": BadArguments.name, "txCode": BadArguments.code})


# ----- transactions ----------------------------------------------------------------------
@functools.cache
def _calls() -> dict:
    from rwachain.modules.core.app import default_modules

    return {(m.name, c.name): c for m in default_modules() for c in m.calls.values()}


def call_specs(module: str, call: str) -> dict | None:
    """The argument specs {name: modules.args.Spec} of module.call, or None if unknown here."""
    c = _calls().get((module, call))
    return None if c is None else c.args


def native_args(module: str, call: str, args: dict) -> dict:
    """A call's arguments in native (msgpack) form, from JSON form or native form or a mix.

    JSON form: addresses as "rwa1..." text, integers as decimal strings (or JSON numbers),
    bytes as 0x-hex; native form: 20-byte `bytes` addresses, `int`, `bytes`. Arguments are
    checked against the call's specs (exact names, types, ranges); a problem raises
    TxRefused "bad_arguments" before anything is sent. A module or call this client does
    not know is passed through unchanged for the node to judge.
    """
    if not isinstance(args, dict):
        raise bad_arguments("args: expected an object of argument name to value")
    specs = call_specs(module, call)
    if specs is None:
        return dict(args)
    out = {}
    try:
        for k, v in args.items():
            spec = specs.get(k)
            if spec is None:
                out[k] = v
                continue
            try:
                out[k] = spec.check(k, v)
            except BadArguments:
                out[k] = spec.from_json(k, v)
        return check_args(specs, out)
    except BadArguments as exc:
        raise bad_arguments(exc.message) from None


def sign_call(key: Keypair, module: str, call: str, args: dict, *, chain: str, nonce: int, fee: int,
              expiry: int = 0) -> bytes:
    """Signed transaction bytes of module.call(args) (args in JSON or native form).

    nonce: the sender's next nonce; fee: base units of the native denom; expiry: last
    block height that may include it (0: none).
    """
    return sign_tx(key, chain=chain, nonce=nonce, fee=fee, module=module, call=call,
                   args=native_args(module, call, args), expiry=expiry)


def _enc_len(n: int) -> int:
    return len(encode(n))


def _hex(raw: bytes) -> str:
    return "0x" + raw.hex()


# ----- the generated methods ---------------------------------------------------------------
def _json_param(method: Method, name: str, value: Any) -> Any:
    """Convenience conversions of native values: bytes as 0x-hex or as an rwa1 address."""
    if isinstance(value, (bytes, bytearray)):
        p = next((p for p in method.params if p.name == name), None)
        if p is not None and p.type is ADDRESS and len(value) == 20:
            return encode_address(bytes(value))
        return _hex(bytes(value))
    return value


def bind_params(method: Method, args: tuple, kwargs: dict) -> dict | None:
    """JSON-RPC params (by name) of a generated method called with args and kwargs."""
    if len(args) > len(method.params):
        raise TypeError(f"{method.name} takes at most {len(method.params)} positional parameters")
    params = {p.name: v for p, v in zip(method.params, args, strict=False)}
    for k, v in kwargs.items():
        if k in params:
            raise TypeError(f"{method.name} got multiple values for {k!r}")
        params[k] = v
    out = {k: _json_param(method, k, v) for k, v in params.items() if v is not None}
    return out or None


def _doc(m: Method) -> str:
    lines = [m.summary, ""]
    if m.params:
        lines.append("Parameters (by position or name; JSON form):")
        for p in m.params:
            opt = "" if p.required else ", optional"
            lines.append(f"    {p.name}{opt}: {p.description}")
    else:
        lines.append("No parameters.")
    lines.append(f"Returns: {m.result.name} (JSON){' - devnet only' if m.dev_only else ''}.")
    return "\n".join(lines)


def _signature(m: Method) -> inspect.Signature:
    ps = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for p in m.params:
        default = inspect.Parameter.empty if p.required else p.default
        ps.append(inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
    return inspect.Signature(ps)


def _make_method(m: Method, is_async: bool):
    if is_async:
        async def method(self, *args, **kwargs):
            return await self.call(m.name, bind_params(m, args, kwargs))
    else:
        def method(self, *args, **kwargs):
            return self.call(m.name, bind_params(m, args, kwargs))
    method.__name__ = method.__qualname__ = m.name
    method.__doc__ = _doc(m)
    method.__signature__ = _signature(m)
    return method


def _add_methods(cls: type, is_async: bool) -> type:
    for name, m in METHODS.items():
        if name.isidentifier() and not hasattr(cls, name):
            setattr(cls, name, _make_method(m, is_async))
    return cls


def method_names() -> list[str]:
    """Every method of the table; those that are Python identifiers are client attributes."""
    return sorted(METHODS)


# ----- shared request/response handling -----------------------------------------------------
class _Base:
    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.timeout = float(timeout)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._path = parts.path or "/"
        if parts.query:
            self._path += "?" + parts.query
        self._hostheader = parts.netloc
        self._ids = itertools.count(1)
        self._chain_id: str | None = None

    def _http_timeout(self, method: str, params: Any, timeout: float | None) -> float:
        if timeout is not None:
            return float(timeout)
        if method == "tx_sendAndWait":  # the node waits up to params.timeout (default 30)
            wait = params.get("timeout", 30) if isinstance(params, dict) else (
                params[1] if isinstance(params, list) and len(params) > 1 else 30)
            try:
                return max(self.timeout, float(wait) + 15.0)
            except (TypeError, ValueError):
                pass
        return self.timeout

    def _request(self, method: str, params: Any) -> tuple[int, bytes]:
        id_ = next(self._ids)
        req: dict = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            req["params"] = params
        return id_, json.dumps(req, separators=(",", ":")).encode()

    @staticmethod
    def _parse(body: bytes | None) -> Any:
        if not body:
            raise TransportError("the node sent an empty answer")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise TransportError(f"the node's answer is not JSON: {exc}") from None

    @staticmethod
    def _result(resp: Any, id_: int) -> Any:
        if not isinstance(resp, dict):
            raise TransportError("the node's answer is not a JSON-RPC response object")
        if "error" in resp:
            raise error_from_obj(resp["error"])
        if resp.get("id") != id_ or "result" not in resp:
            raise TransportError("the node's answer does not match the request")
        return resp["result"]

    def _batch_request(self, calls: Iterable[tuple[str, Any]]) -> tuple[list[int], bytes]:
        ids, reqs = [], []
        for method, params in calls:
            id_ = next(self._ids)
            r: dict = {"jsonrpc": "2.0", "id": id_, "method": method}
            if params is not None:
                r["params"] = params
            ids.append(id_)
            reqs.append(r)
        if not reqs:
            raise ValueError("an empty batch")
        return ids, json.dumps(reqs, separators=(",", ":")).encode()

    @staticmethod
    def _batch_results(resp: Any, ids: list[int], return_exceptions: bool) -> list:
        if isinstance(resp, dict) and "error" in resp:  # the whole batch was refused
            raise error_from_obj(resp["error"])
        if not isinstance(resp, list):
            raise TransportError("the node's answer to a batch is not an array")
        by_id = {r.get("id"): r for r in resp if isinstance(r, dict)}
        out = []
        for id_ in ids:
            r = by_id.get(id_)
            if r is None:
                raise TransportError(f"the node's answer lacks the response to request {id_}")
            if "error" in r:
                exc = error_from_obj(r["error"])
                if not return_exceptions:
                    raise exc
                out.append(exc)
            else:
                out.append(r.get("result"))
        return out

    @staticmethod
    def _check_status(status: int, body: bytes) -> None:
        if status not in (200, 204):
            raise TransportError(f"HTTP {status} from the node: {body[:200].decode(errors='replace')}")


def _transport(url: str, exc: BaseException) -> TransportError:
    if isinstance(exc, TimeoutError):
        return TransportError(f"no answer from the node at {url} in time ({exc or 'timed out'})")
    return TransportError(f"cannot reach the node at {url}: {str(exc) or type(exc).__name__}")


# ----- blocking client -------------------------------------------------------------------------
class Client(_Base):
    """Blocking JSON-RPC client over one keep-alive HTTP/1.1 connection (thread-safe: requests
    are serialised). timeout: seconds for one HTTP exchange."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(url, timeout)
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _post(self, body: bytes, timeout: float) -> bytes:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        with self._lock:
            for attempt in (0, 1):
                reused = self._conn is not None and self._conn.sock is not None
                if self._conn is None:
                    cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                    self._conn = cls(self._host, self._port, timeout=timeout)
                conn = self._conn
                conn.timeout = timeout
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                try:
                    conn.request("POST", self._path, body, headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
                    self._drop()
                    if reused and attempt == 0:  # the server closed an idle keep-alive connection
                        continue
                    raise _transport(self.url, exc) from None
                except (OSError, http.client.HTTPException) as exc:
                    self._drop()
                    raise _transport(self.url, exc) from None
                if resp.will_close:
                    self._drop()
                self._check_status(resp.status, data)
                return data
        raise AssertionError("unreachable")

    def call(self, method: str, params: Any = None, *, timeout: float | None = None) -> Any:
        """Call any method; params: a list (by position), a dict (by name) or None.

        Returns the result (JSON value); raises an RpcError subclass for an error answer.
        timeout: seconds for the HTTP exchange (default: the client's; tx_sendAndWait adds
        its own wait).
        """
        id_, body = self._request(method, params)
        return self._result(self._parse(self._post(body, self._http_timeout(method, params, timeout))), id_)

    def batch(self, calls: Iterable[tuple[str, Any]], *, return_exceptions: bool = False,
              timeout: float | None = None) -> list:
        """Several calls in one HTTP request (the node runs them concurrently).

        calls: (method, params) pairs. Returns their results in order; an error raises the
        first one's RpcError, or with return_exceptions=True stands in its place.
        """
        ids, body = self._batch_request(calls)
        resp = self._parse(self._post(body, self.timeout if timeout is None else timeout))
        return self._batch_results(resp, ids, return_exceptions)

    def chain_id(self) -> str:
        """The node's chain id (cached after the first call)."""
        if self._chain_id is None:
            self._chain_id = self.call("chain_status")["chainId"]
        return self._chain_id

    def estimate_fee(self, key: Keypair, module: str, call: str, args: dict, *, nonce: int,
                     chain: str | None = None, expiry: int = 0) -> int:
        """Minimum fee (native base units) of this transaction, from tx_estimateFee.

        Signs with a provisional fee to size the transaction, asks the node, and repeats
        only when the estimate needs a longer encoding than the provisional fee had (so the
        result always covers the final transaction; it can exceed the exact minimum by a few
        bytes' worth of feePerByte x feePrice when the fee's encoding is shorter).
        """
        chain = chain or self.chain_id()
        trial = PROVISIONAL_FEE
        for _ in range(4):
            raw = sign_call(key, module, call, args, chain=chain, nonce=nonce, fee=trial, expiry=expiry)
            fee = int(self.call("tx_estimateFee", {"tx": _hex(raw)})["minFee"])
            if _enc_len(fee) <= _enc_len(trial):
                return fee
            trial = fee
        return fee

    def subscribe(self, kind: str, event_type: str | None = None, attrs: dict | None = None, *,
                  max_retries: int | None = 10) -> Subscription:
        """A subscription over the node's WebSocket (rpc/client/ws.py): kind newHeads,
        pendingTransactions or events (with event_type and attributes to match); iterate it
        for each notification's result. It reconnects and resubscribes on its own."""
        return Subscription(self._host, self._port, kind, event_type, attrs, timeout=self.timeout,
                            max_retries=max_retries)

    def send_call(self, key: Keypair, module: str, call: str, args: dict, *, fee: int | None = None,
                  nonce: int | None = None, wait: bool = True, timeout: float = 30, expiry: int = 0,
                  chain: str | None = None) -> Any:
        """Build, sign and send module.call(args) from key's account.

        args: JSON form ({"to": "rwa1...", "amount": "5"}) or native form (bytes, int).
        nonce: default the account's pendingNonce (account_get); fee: native base units,
        default the node's minimum (tx_estimateFee, see estimate_fee); expiry: last block
        height that may include it (0: none); chain: default the node's chain id.
        wait=True sends with tx_sendAndWait and returns the receipt (JSON; "code" 0 is
        success, otherwise "error" names the failure and the fee was paid), waiting up to
        timeout seconds (raises Timeout after that, the transaction still pending);
        wait=False sends with tx_send and returns the transaction hash (0x-hex).
        Refusals raise TxRefused (e.g. .name "replayed_nonce") or MempoolRefused.
        """
        chain = chain or self.chain_id()
        if nonce is None:
            nonce = int(self.call("account_get", {"address": key.address_text})["pendingNonce"])
        if fee is None:
            fee = self.estimate_fee(key, module, call, args, nonce=nonce, chain=chain, expiry=expiry)
        raw = sign_call(key, module, call, args, chain=chain, nonce=nonce, fee=fee, expiry=expiry)
        if wait:
            return self.call("tx_sendAndWait", {"tx": _hex(raw), "timeout": timeout})
        return self.call("tx_send", {"tx": _hex(raw)})


# ----- async client (trio) ---------------------------------------------------------------------
class _Conn:
    """One HTTP/1.1 connection: a trio stream and its h11 state."""

    def __init__(self, stream: trio.abc.Stream):
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)
        self.used = False

    async def exchange(self, host: str, target: str, body: bytes) -> tuple[int, bytes]:
        h = self.h11
        out = h.send(h11.Request(method="POST", target=target, headers=[
            ("Host", host), ("Content-Type", "application/json"), ("Accept", "application/json"),
            ("Content-Length", str(len(body)))]))
        out += h.send(h11.Data(data=body)) + h.send(h11.EndOfMessage())
        await self.stream.send_all(out)
        status, chunks = 0, []
        while True:
            ev = h.next_event()
            if ev is h11.NEED_DATA:
                h.receive_data(await self.stream.receive_some(65536))
            elif isinstance(ev, h11.Response):
                status = ev.status_code
            elif isinstance(ev, h11.Data):
                chunks.append(ev.data)
            elif isinstance(ev, h11.EndOfMessage):
                return status, b"".join(chunks)
            elif isinstance(ev, h11.ConnectionClosed):
                raise trio.BrokenResourceError("the node closed the connection")

    def reusable(self) -> bool:
        h = self.h11
        if h.our_state is h11.DONE and h.their_state is h11.DONE:
            h.start_next_cycle()
            self.used = True
            return True
        return False


class AsyncClient(_Base):
    """JSON-RPC client for trio over keep-alive HTTP/1.1 connections (a pool of up to
    max_idle idle connections; concurrent calls from several tasks each get a connection).
    timeout: seconds for one HTTP exchange."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = DEFAULT_TIMEOUT, max_idle: int = 4):
        super().__init__(url, timeout)
        self.max_idle = max_idle
        self._idle: list[_Conn] = []

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the idle connections."""
        idle, self._idle = self._idle, []
        for c in idle:
            with trio.CancelScope(shield=True):
                await c.stream.aclose()

    async def _open(self) -> _Conn:
        if self._https:
            stream = await trio.open_ssl_over_tcp_stream(self._host, self._port)
        else:
            stream = await trio.open_tcp_stream(self._host, self._port)
        return _Conn(stream)

    async def _post(self, body: bytes, timeout: float) -> bytes:
        for attempt in (0, 1):
            conn = None
            try:
                with trio.fail_after(timeout):
                    conn = self._idle.pop() if self._idle else await self._open()
                    status, data = await conn.exchange(self._hostheader, self._path, body)
            except (trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError) as exc:
                reused = conn is not None and conn.used
                if conn is not None:
                    await trio.aclose_forcefully(conn.stream)
                if reused and attempt == 0:  # the server closed an idle keep-alive connection
                    continue
                raise _transport(self.url, exc) from None
            except trio.TooSlowError:
                if conn is not None:
                    await trio.aclose_forcefully(conn.stream)
                raise TransportError(f"no answer from {self.url} within {timeout} s") from None
            except OSError as exc:
                if conn is not None:
                    await trio.aclose_forcefully(conn.stream)
                raise _transport(self.url, exc) from None
            except BaseException:
                if conn is not None:
                    await trio.aclose_forcefully(conn.stream)
                raise
            if conn.reusable() and len(self._idle) < self.max_idle:
                self._idle.append(conn)
            else:
                await trio.aclose_forcefully(conn.stream)
            self._check_status(status, data)
            return data
        raise AssertionError("unreachable")

    async def call(self, method: str, params: Any = None, *, timeout: float | None = None) -> Any:
        """Call any method; params: a list (by position), a dict (by name) or None.

        Returns the result (JSON value); raises an RpcError subclass for an error answer.
        timeout: seconds for the HTTP exchange (default: the client's; tx_sendAndWait adds
        its own wait).
        """
        id_, body = self._request(method, params)
        data = await self._post(body, self._http_timeout(method, params, timeout))
        return self._result(self._parse(data), id_)

    async def batch(self, calls: Iterable[tuple[str, Any]], *, return_exceptions: bool = False,
                    timeout: float | None = None) -> list:
        """Several calls in one HTTP request (the node runs them concurrently).

        calls: (method, params) pairs. Returns their results in order; an error raises the
        first one's RpcError, or with return_exceptions=True stands in its place.
        """
        ids, body = self._batch_request(calls)
        resp = self._parse(await self._post(body, self.timeout if timeout is None else timeout))
        return self._batch_results(resp, ids, return_exceptions)

    async def chain_id(self) -> str:
        """The node's chain id (cached after the first call)."""
        if self._chain_id is None:
            self._chain_id = (await self.call("chain_status"))["chainId"]
        return self._chain_id

    async def estimate_fee(self, key: Keypair, module: str, call: str, args: dict, *, nonce: int,
                           chain: str | None = None, expiry: int = 0) -> int:
        """Minimum fee (native base units) of this transaction; see Client.estimate_fee."""
        chain = chain or await self.chain_id()
        trial = PROVISIONAL_FEE
        for _ in range(4):
            raw = sign_call(key, module, call, args, chain=chain, nonce=nonce, fee=trial, expiry=expiry)
            fee = int((await self.call("tx_estimateFee", {"tx": _hex(raw)}))["minFee"])
            if _enc_len(fee) <= _enc_len(trial):
                return fee
            trial = fee
        return fee

    async def subscribe(self, kind: str, event_type: str | None = None, attrs: dict | None = None, *,
                        max_retries: int | None = 10) -> AsyncSubscription:
        """A subscription over the node's WebSocket (rpc/client/ws.py), as Client.subscribe;
        use it with `async with` and `async for`."""
        return await AsyncSubscription.open(self._host, self._port, kind, event_type, attrs, timeout=self.timeout,
                                            max_retries=max_retries)

    async def send_call(self, key: Keypair, module: str, call: str, args: dict, *, fee: int | None = None,
                        nonce: int | None = None, wait: bool = True, timeout: float = 30, expiry: int = 0,
                        chain: str | None = None) -> Any:
        """Build, sign and send module.call(args); see Client.send_call (same units and results)."""
        chain = chain or await self.chain_id()
        if nonce is None:
            nonce = int((await self.call("account_get", {"address": key.address_text}))["pendingNonce"])
        if fee is None:
            fee = await self.estimate_fee(key, module, call, args, nonce=nonce, chain=chain, expiry=expiry)
        raw = sign_call(key, module, call, args, chain=chain, nonce=nonce, fee=fee, expiry=expiry)
        if wait:
            return await self.call("tx_sendAndWait", {"tx": _hex(raw), "timeout": timeout})
        return await self.call("tx_send", {"tx": _hex(raw)})


_add_methods(Client, is_async=False)
_add_methods(AsyncClient, is_async=True)

__all__ = [
    "AsyncClient", "Client", "DevOnly", "HeightUnavailable", "InvalidParams", "InvalidState", "MempoolRefused",
    "MethodNotFound", "NotFound", "RpcError", "Timeout", "TransportError", "TxRefused", "bind_params",
    "call_specs", "error_from_obj", "method_names", "native_args", "sign_call",
]
