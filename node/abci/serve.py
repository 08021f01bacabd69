"""`rwad abci --home DIR`: serve a home's chain to CometBFT on the address its config names.

The process holds the chain's LevelDB and answers CometBFT's four connections until
SIGINT or SIGTERM. Killed outright (SIGKILL), it loses nothing committed: on restart,
Info reports the last committed height and CometBFT's handshake replays the blocks it
lacks.
"""

from __future__ import annotations

import functools
import logging
import signal

import trio

from rwachain.node.abci.app import ChainApp, open_home_chain
from rwachain.node.abci.home import proxy_app, rpc_laddr
from rwachain.node.abci.rpcnode import AbciNode
from rwachain.node.abci.server import AbciServer

log = logging.getLogger("rwachain.abci")


def _log_fault(where: str, exc: Exception) -> None:
    log.warning("%s raised %s (contained)", where, type(exc).__name__, exc_info=exc)


async def _until_signal() -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for sig in signals:
            log.warning("received %s: stopping", signal.Signals(sig).name)
            return


def serve_home(home: str, *, keep_versions: int = 100, frontend=None, host: str = "127.0.0.1", port: int = 8545,
               frontend_options: dict | None = None) -> int:
    """Open home's chain and serve it on its CometBFT config's proxy_app address; with a
    frontend (the JSON-RPC server), serve that too on host:port, over an AbciNode that
    forwards transactions to CometBFT's RPC."""
    address = proxy_app(home)
    chain, genesis = open_home_chain(home, keep_versions=keep_versions)
    chain.app.on_fault = _log_fault
    app = ChainApp(chain, genesis)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(AbciServer(app).serve, address)
            print(f"rwachain ABCI app at height {app.last_height()} serving CometBFT on {bound}; data in "
                  f"{home}/data", flush=True)
            if frontend is not None:
                node = AbciNode(app, "http://" + rpc_laddr(home).partition("://")[2])
                rpc_port = await nursery.start(functools.partial(frontend, node, host, port, **(frontend_options or {})))
                print(f"JSON-RPC listening on http://{host}:{rpc_port} (WebSocket: ws://{host}:{rpc_port}/ws); "
                      f"transactions go to CometBFT at {node.comet_rpc}", flush=True)
            await _until_signal()
            nursery.cancel_scope.cancel()

    try:
        trio.run(main)
    finally:
        chain.close()
    return 0
