"""Serve a Node over JSON-RPC: HTTP (and WebSocket at /ws) on one port."""

from __future__ import annotations

import trio

from rwachain.node.service import Node
from rwachain.rpc.methods.api import Api
from rwachain.rpc.methods.modules import node_methods
from rwachain.rpc.server.http import HttpServer
from rwachain.rpc.server.jsonrpc import Dispatcher
from rwachain.rpc.server.ws import WsHub


def metrics_text(node: Node, dispatcher: Dispatcher, server: HttpServer, hub: WsHub) -> str:
    lat = dispatcher.latency
    hooks = node.chain.app.hooks
    lines = [
        "# HELP rwachain_height Height of the last committed block.", "# TYPE rwachain_height gauge",
        f"rwachain_height {node.chain.height}",
        "# HELP rwachain_mempool_size Transactions waiting in the mempool.", "# TYPE rwachain_mempool_size gauge",
        f"rwachain_mempool_size {len(node.mempool)}",
        "# HELP rwachain_tx_per_second Included transactions per second over recent blocks.",
        "# TYPE rwachain_tx_per_second gauge", f"rwachain_tx_per_second {node.tx_rate():.3f}",
        "# HELP rwachain_rpc_connections Open RPC connections.", "# TYPE rwachain_rpc_connections gauge",
        f"rwachain_rpc_connections {server.connections}",
        "# HELP rwachain_rpc_connections_refused_total Connections refused past --max-connections.",
        "# TYPE rwachain_rpc_connections_refused_total counter", f"rwachain_rpc_connections_refused_total {server.refused}",
        "# HELP rwachain_ws_clients Open WebSocket connections.", "# TYPE rwachain_ws_clients gauge",
        f"rwachain_ws_clients {len(hub.clients)}",
        "# HELP rwachain_ws_queued_bytes Bytes of messages queued for WebSocket clients.",
        "# TYPE rwachain_ws_queued_bytes gauge", f"rwachain_ws_queued_bytes {sum(c.queued_bytes for c in hub.clients)}",
        "# HELP rwachain_ws_dropped_total WebSocket clients closed for a full queue or a missed pong.",
        "# TYPE rwachain_ws_dropped_total counter", f"rwachain_ws_dropped_total {hub.dropped}",
        "# HELP rwachain_block_gil_offers_total Times a block in a worker thread offered the GIL to the event loop.",
        "# TYPE rwachain_block_gil_offers_total counter", f"rwachain_block_gil_offers_total {node.gil_offers}",
        "# HELP rwachain_block_gil_offer_seconds_total Seconds blocks in worker threads spent in those offers.",
        "# TYPE rwachain_block_gil_offer_seconds_total counter",
        f"rwachain_block_gil_offer_seconds_total {node.gil_offer_seconds:.6f}",
        "# HELP rwachain_block_hooks_run_total Begin- and end-block hook turns that ran.",
        "# TYPE rwachain_block_hooks_run_total counter", f"rwachain_block_hooks_run_total {hooks.ran}",
        "# HELP rwachain_block_hooks_skipped_total Hook turns skipped: the last run changed nothing and"
        " nothing it read had changed.",
        "# TYPE rwachain_block_hooks_skipped_total counter", f"rwachain_block_hooks_skipped_total {hooks.skipped}",
        "# HELP rwachain_tx_handler_faults_total Transactions whose handler raised an unexpected exception"
        " (failed with handler_fault; the node logs each).",
        "# TYPE rwachain_tx_handler_faults_total counter",
        f"rwachain_tx_handler_faults_total {node.chain.app.handler_faults}",
        "# HELP rwachain_block_hook_faults_total Begin- and end-block hook turns that raised (writes dropped,"
        " hook.fault event; the node logs each).",
        "# TYPE rwachain_block_hook_faults_total counter", f"rwachain_block_hook_faults_total {hooks.faults}",
        "# HELP rwachain_rpc_latency_seconds JSON-RPC call latency.", "# TYPE rwachain_rpc_latency_seconds histogram",
    ]
    cum = 0
    for b, c in zip(lat.BUCKETS, lat.counts, strict=False):
        cum += c
        lines.append(f'rwachain_rpc_latency_seconds_bucket{{le="{b}"}} {cum}')
    lines.append(f'rwachain_rpc_latency_seconds_bucket{{le="+Inf"}} {lat.n}')
    lines.append(f"rwachain_rpc_latency_seconds_sum {lat.total:.6f}")
    lines.append(f"rwachain_rpc_latency_seconds_count {lat.n}")
    return "\n".join(lines) + "\n"


async def serve_rpc(node: Node, host: str, port: int, *, batch_limit: int = 1000, max_body: int = 5 * 1024 * 1024,
                   cors: list[str] | None = None, vhosts: list[str] | None = None, max_response: int = 25_000_000,
                   ws_limits: dict | None = None, method_table=None, task_status=trio.TASK_STATUS_IGNORED,
                   **http_limits) -> None:
    """Serve node on host:port until cancelled; task_status gets the bound port. cors: the
    origins browsers may call from; vhosts: Host names served besides the local ones;
    http_limits go to HttpServer (max_connections, max_header, max_url, header_timeout),
    ws_limits to WsHub; method_table, if given, maps the method table to the one served
    (rpc/methods/abci.py: ABCI mode)."""
    methods = node_methods(node.chain.app.modules)
    if method_table is not None:
        methods = method_table(methods)
    api = Api(node, methods)
    dispatcher = Dispatcher(api, methods, batch_limit=batch_limit, max_response=max_response)
    hub = WsHub(node, dispatcher, **(ws_limits or {}))
    server = HttpServer(dispatcher.handle_body,
                        health=lambda: {"status": "ok", "height": node.chain.height, "mempool": len(node.mempool)},
                        metrics=lambda: metrics_text(node, dispatcher, server, hub),
                        ws=hub.handle, max_body=max_body, cors=cors, vhosts=vhosts, **http_limits)
    await server.serve(host, port, task_status=task_status)
