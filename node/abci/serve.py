"""`rwad abci --home DIR`: serve a home's chain to CometBFT on the address its config names.

The process holds the chain's LevelDB and answers CometBFT's four connections until
SIGINT or SIGTERM. Killed outright (SIGKILL), it loses nothing committed: on restart,
Info reports the last committed height and CometBFT's handshake replays the blocks it
lacks.
"""

from __future__ import annotations

import logging
import signal

import trio

from rwachain.node.abci.app import ChainApp, open_home_chain
from rwachain.node.abci.home import proxy_app
from rwachain.node.abci.server import AbciServer

log = logging.getLogger("rwachain.abci")


def _log_fault(where: str, exc: Exception) -> None:
    log.warning("%s raised %s (contained)", where, type(exc).__name__, exc_info=exc)


async def serve_app(app: ChainApp, address: str, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Serve app on address until SIGINT or SIGTERM; task_status gets the bound address."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(AbciServer(app).serve, address)
            task_status.started(bound)
            async for sig in signals:
                log.warning("received %s: stopping", signal.Signals(sig).name)
                nursery.cancel_scope.cancel()
                return


def serve_home(home: str, *, keep_versions: int = 100) -> int:
    """Open home's chain and serve it on its CometBFT config's proxy_app address."""
    address = proxy_app(home)
    chain, genesis = open_home_chain(home, keep_versions=keep_versions)
    chain.app.on_fault = _log_fault
    app = ChainApp(chain, genesis)

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(serve_app, app, address)
            print(f"rwachain ABCI app at height {app.last_height()} serving CometBFT on {bound}; data in "
                  f"{home}/data", flush=True)

    try:
        trio.run(main)
    finally:
        chain.close()
    return 0
