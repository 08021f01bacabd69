"""Bare trio HTTP servers answering a constant JSON-RPC reply: the floor under the node.

    python bench/rpc_bare.py KIND [--port 0]     prints "listening PORT", serves until killed
KIND:
  httptools     a tiny trio server parsing with httptools (the node's parser), nothing else
  h11           the same server parsing with h11 (pure Python), to compare the parsers
  rpc-http      the node's own HTTP layer (rpc.http.HttpServer) with a handler that
                returns constant bytes: what the node's HTTP code costs
  rpc-dispatch  rpc.http.HttpServer + rpc.jsonrpc.Dispatcher with one method returning a
                constant: HTTP plus JSON-RPC dispatch, no chain
All bind 127.0.0.1 only, keep connections alive and answer pipelined requests in order.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

import trio

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

BODY = b'{"jsonrpc":"2.0","id":1,"result":"0x1"}'
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
         b"Access-Control-Allow-Origin: *\r\n\r\n" % len(BODY)) + BODY
HOST = "127.0.0.1"


# ----- httptools -------------------------------------------------------------------------------
class _Proto:
    __slots__ = ("done",)

    def __init__(self):
        self.done = 0

    def on_message_complete(self):
        self.done += 1


async def _httptools_conn(stream: trio.SocketStream) -> None:
    import httptools

    proto = _Proto()
    parser = httptools.HttpRequestParser(proto)
    try:
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return
            parser.feed_data(data)
            if proto.done:
                n, proto.done = proto.done, 0
                await stream.send_all(REPLY * n)
    except (trio.BrokenResourceError, trio.ClosedResourceError, httptools.HttpParserError):
        return


# ----- h11 ---------------------------------------------------------------------------------------
async def _h11_conn(stream: trio.SocketStream) -> None:
    import h11

    conn = h11.Connection(h11.SERVER)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY))),
               ("Access-Control-Allow-Origin", "*")]
    try:
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                data = await stream.receive_some(65536)
                conn.receive_data(data)
                if not data:
                    return
                continue
            if isinstance(ev, h11.Request):
                continue  # wait for its body
            if isinstance(ev, h11.Data):
                continue
            if isinstance(ev, h11.EndOfMessage):
                out = conn.send(h11.Response(status_code=200, headers=headers))
                out += conn.send(h11.Data(data=BODY))
                out += conn.send(h11.EndOfMessage())
                await stream.send_all(out)
                conn.start_next_cycle()
                continue
            return  # ConnectionClosed or anything unexpected
    except (trio.BrokenResourceError, trio.ClosedResourceError, h11.RemoteProtocolError):
        return


async def _serve_plain(handler, port: int) -> None:
    listeners = await trio.open_tcp_listeners(port, host=HOST)
    print(f"listening {listeners[0].socket.getsockname()[1]}", flush=True)
    await trio.serve_listeners(handler, listeners)


# ----- the node's HTTP layer, optionally with its JSON-RPC dispatcher -------------------------------
async def _serve_node_layers(port: int, dispatch: bool) -> None:
    from rwachain.rpc.server.http import HttpServer

    if dispatch:
        from rwachain.rpc.methods.params import Method, Result
        from rwachain.rpc.server.jsonrpc import Dispatcher

        async def const(api):
            return "0x1"

        d = Dispatcher(None, {"bench_const": Method("bench_const", const, [], Result("x", {}), "")})
        handler = d.handle_body
    else:
        async def handler(body: bytes) -> bytes:
            return BODY

    server = HttpServer(handler, health=lambda: {"status": "ok"}, metrics=lambda: "")
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(server.serve, HOST, port)
        print(f"listening {bound}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kind", choices=("httptools", "h11", "rpc-http", "rpc-dispatch"))
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    if args.kind == "httptools":
        trio.run(_serve_plain, _httptools_conn, args.port)
    elif args.kind == "h11":
        trio.run(_serve_plain, _h11_conn, args.port)
    else:
        trio.run(_serve_node_layers, args.port, args.kind == "rpc-dispatch")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
