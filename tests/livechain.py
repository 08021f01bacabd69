"""A devnet after transactions of every call, and every RPC method's answers on it.

    results = walk(node)      # {method: [result, ...]} after drive(node)

drive(node) sends each module call of the fee table at least once (some succeed, some
fail with a receipt code: both kinds of receipt matter to a client), one of them with the
largest expiry; walk(node) then calls every method that a client can call over HTTP with
parameters that reach its records, at the head and at a past height.
"""

from __future__ import annotations

from rwachain.genesis import devnet
from rwachain.modules.core import bls
from rwachain.modules.core.tx import sign_tx
from rwachain.modules.oracle.report import bitmap, message
from tests.rpcnode import RpcError

KEYS = devnet.dev_keys()
U64_MAX = (1 << 64) - 1
FEE = 10**6
UNIT = "unit/p1/t0"


class Sender:
    """Signs calls with tracked nonces and sends them with tx_sendAndWait."""

    def __init__(self, node):
        self.node = node
        self.nonces: dict[int, int] = {}
        self.hashes: list[str] = []

    def send(self, i: int, module: str, call: str, args: dict, *, expiry: int = 0) -> dict:
        if i not in self.nonces:
            self.nonces[i] = self.node.call("account_get", [KEYS[i].address_text])["pendingNonce"]
        raw = sign_tx(KEYS[i], chain=devnet.CHAIN_ID, nonce=int(self.nonces[i]), fee=FEE, module=module,
                      call=call, args=args, expiry=expiry)
        self.nonces[i] = int(self.nonces[i]) + 1
        receipt = self.node.call("tx_sendAndWait", ["0x" + raw.hex()])
        self.hashes.append(receipt["txHash"])
        return receipt


def _report_args(node, feed: str, value: int) -> dict:
    latest = node.call("oracle_latest", [feed])
    epoch = node.call("oracle_operators")["epoch"]
    rnd = int(latest["round"]) + 1
    obs = node.call("chain_status")["time"]
    msg = message(devnet.CHAIN_ID, int(epoch), feed, value, int(obs), rnd)
    sig = bls.aggregate([bls.sign(devnet.operator_secret(j), msg) for j in (0, 1, 2)])
    return {"feed": feed, "value": value, "observedAt": int(obs), "round": rnd, "epoch": int(epoch),
            "signers": bitmap([0, 1, 2], devnet.OPERATORS), "signature": sig}


def drive(node) -> Sender:
    """Every call of every module, from the accounts whose roles it needs."""
    s = Sender(node)
    to = KEYS[2].address
    s.send(0, "bank", "transfer", {"to": to, "denom": "rwa", "amount": 2_500_000}, expiry=U64_MAX)
    s.send(0, "bank", "transfer", {"to": to, "denom": "rwa", "amount": 10**30})  # fails: insufficient_funds
    rate = int(node.call("oracle_latest", ["rate"])["value"])
    s.send(6, "oracle", "report", _report_args(node, "rate", rate + 10**14))
    s.send(5, "oracle", "reject", {"feed": "spread/E"})  # fails: nothing queued
    t = int(node.call("chain_status")["time"])
    s.send(1, "assets", "register", {"kind": "loan", "principal": 10**9, "rate": 10**17, "schedule": "bullet",
                                     "start": t + 86_400, "period": 86_400 * 30, "count": 3, "installments": [],
                                     "grace": 86_400, "docHash": b"\x01" * 32})
    new_id = max(int(a["id"]) for a in node.call("assets_list", {"originator": KEYS[1].address_text})["assets"])
    s.send(2, "assets", "verify", {"id": new_id, "grade": "B"})
    s.send(3, "assets", "repay", {"id": 1, "amount": 10**6})
    s.send(3, "assets", "markDefault", {"id": 2})  # fails: not yet past due and grace
    s.send(3, "assets", "writeOff", {"id": 2})
    s.send(3, "assets", "recover", {"id": 2, "amount": 10**6})
    sched = node.call("assets_schedule", [new_id])
    principal = sum(int(r["principal"]) for r in sched)
    s.send(1, "tranches", "createPool", {"assets": [new_id], "tranches": [[principal // 2, 5 * 10**16],
                                                                          [principal - principal // 2, 0]],
                                         "unitSize": 10**6})
    s.send(1, "tranches", "claim", {"pool": 1, "tranche": 0})
    ref = int(node.call("market_book", [UNIT])["referencePrice"])
    price = ref * 102 // 100
    s.send(8, "market", "place", {"denom": UNIT, "side": "sell", "price": price, "quantity": 3, "expiry": 0})
    order = node.call("market_orders", [KEYS[8].address_text])[-1]["id"]
    s.send(0, "market", "place", {"denom": UNIT, "side": "buy", "price": price, "quantity": 1, "expiry": U64_MAX})
    s.send(8, "market", "cancel", {"order": int(order)})
    s.send(8, "market", "place", {"denom": UNIT, "side": "sell", "price": ref * 103 // 100, "quantity": 1,
                                  "expiry": U64_MAX})  # rests
    s.send(4, "stable", "mint", {"to": KEYS[4].address, "amount": 10**6})
    s.send(4, "stable", "burn", {"amount": 10**6})
    s.send(7, "stable", "exit", {"unit": UNIT, "quantity": 2, "minOut": 0})
    s.send(0, "stable", "buy", {"unit": UNIT, "quantity": 1, "maxIn": 10**12})
    s.send(0, "stable", "redeem", {"amount": 10**6})
    s.send(0, "insurance", "stake", {"amount": 10**6})
    s.send(0, "insurance", "unbond", {"amount": 10**5})
    s.send(0, "insurance", "withdraw", {})  # fails: still unbonding
    s.send(7, "insurance", "claim", {})
    s.send(0, "governance", "propose", {"action": "unpause", "target": "market", "account": b""})
    s.send(0, "governance", "proposeChange", {"action": "setParams", "target": "reserve",
                                              "value": "discount=20000000000000000"})
    s.send(7, "governance", "vote", {"id": 1, "support": "yes"})
    s.send(5, "governance", "pause", {"module": "insurance"})
    s.send(7, "reserve", "sell", {"unit": UNIT, "quantity": 1, "minOut": 0, "payIn": "stable"})
    s.send(0, "reserve", "requestRedeem", {"amount": 10**6})
    s.send(0, "reserve", "cancelRedeem", {})  # gives back what is unfilled (the cool-down holds it)
    return s


# Methods a walk leaves out: WebSocket-only, or replacing the chain under the walk.
SKIPPED = {"chain_subscribe", "chain_unsubscribe", "dev_loadState", "dev_revert"}


def calls(node, sender: Sender) -> list[tuple[str, object]]:
    """(method, params) pairs covering every method's records."""
    a0, a7 = KEYS[0].address_text, KEYS[7].address_text
    head = int(node.call("chain_status")["height"])
    past = max(head - 3, 1)
    hashes = sender.hashes
    out: list[tuple[str, object]] = [
        ("chain_status", None), ("chain_validator", None), ("chain_params", None), ("chain_metrics", None), ("chain_metrics", [past]),
        ("chain_getHeader", None), ("chain_getHeader", [1]),
        ("account_get", [a0]), ("account_get", [a7, past]),
        ("bank_balance", [a0, "rwa"]), ("bank_supply", ["rusd"]), ("bank_params", None),
        ("roles_holders", ["operator"]), ("roles_params", None),
        ("assets_list", None), ("assets_list", {"status": "defaulted"}), ("assets_list", {"limit": 1}),
        ("gov_params", None), ("gov_proposals", None), ("gov_proposal", [1]),
        ("insurance_info", None), ("insurance_info", [a0]), ("insurance_params", None),
        ("market_book", [UNIT]), ("market_trades", [UNIT]), ("market_orders", [a7]), ("market_orders", [KEYS[8].address_text]),
        ("market_candles", [UNIT]), ("native_info", None), ("native_info", [a0]), ("native_params", None),
        ("oracle_feeds", None), ("oracle_feeds", {"limit": 2}), ("oracle_latest", ["rate"]),
        ("oracle_latest", ["grade/1"]), ("oracle_operators", None), ("oracle_pending", None),
        ("pool_list", None), ("pool_list", {"limit": 1}), ("reserve_info", None), ("reserve_params", None),
        ("reserve_quote", [UNIT, 2]), ("reserve_quote", [UNIT, 2, "native"]),
        ("stable_info", None), ("stable_params", None), ("stable_quote", {"kind": "buy", "unit": UNIT, "quantity": 2}),
        ("stable_quote", {"kind": "exit", "unit": UNIT, "quantity": 2}), ("stable_quote", {"kind": "redeem", "amount": 10**9}),
        ("state_get", ["0x" + b"acct/".hex() + KEYS[0].address.hex()]), ("state_get", ["0x00ff"]),
        ("tx_search", None), ("tx_search", {"limit": 3}), ("tx_search", {"eventType": "market.fill"}),
        ("rpc.discover", None), ("dev_snapshot", None), ("dev_mine", None), ("dev_setTime", None),
        ("dev_advanceTime", [0]), ("dev_setBalance", [a7, "rwa", "5"]), ("dev_dumpState", None),
        ("tx_estimateFee", None), ("tx_simulate", None), ("tx_send", None), ("tx_sendAndWait", None),
    ]
    for h in range(1, head + 1):
        out += [("chain_getBlock", [h]), ("chain_getBlock", [h, True])]
    for h in hashes:
        out += [("tx_get", [h]), ("tx_getReceipt", [h])]
    for aid in (1, 2, 3):
        out += [("assets_get", [aid]), ("assets_schedule", [aid]), ("assets_payments", [aid]),
                ("valuation_asset", [aid])]
    for pool in (1, 2):
        out += [("pool_get", [pool]), ("valuation_pool", [pool]), ("tranche_get", [pool, 0]), ("tranche_get", [pool, 1]),
                ("tranche_claimable", [pool, 0, a7])]
    return out


def walk(node, sender: Sender) -> dict[str, list]:
    """Every method's results: {method: [result, ...]}."""
    results: dict[str, list] = {}
    for method, params in calls(node, sender):
        params = _fill(node, sender, method, params)
        try:
            results.setdefault(method, []).append(node.call(method, params))
        except RpcError as exc:
            raise AssertionError(f"{method}({params}): {exc}") from None
    for h in results.get("chain_getBlock", [])[1:]:
        if h["header"]["height"] and not results.get("chain_getBlockByHash"):
            results["chain_getBlockByHash"] = [node.call("chain_getBlockByHash", [h["hash"], True])]
    return results


def _fill(node, sender: Sender, method: str, params):
    """Parameters that depend on the chain at the time of the call."""
    if method in ("tx_estimateFee", "tx_simulate", "tx_send", "tx_sendAndWait"):
        i = 0
        if i not in sender.nonces:
            sender.nonces[i] = node.call("account_get", [KEYS[i].address_text])["pendingNonce"]
        raw = sign_tx(KEYS[i], chain=devnet.CHAIN_ID, nonce=int(sender.nonces[i]), fee=FEE, module="bank",
                      call="transfer", args={"to": KEYS[3].address, "denom": "rwa", "amount": 7}, expiry=U64_MAX)
        if method in ("tx_send", "tx_sendAndWait"):
            sender.nonces[i] = int(sender.nonces[i]) + 1
        return ["0x" + raw.hex()]
    if method == "dev_setTime":
        return [int(node.call("chain_status")["time"]) + 5]
    return params
