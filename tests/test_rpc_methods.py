"""Every JSON-RPC method of the table, over real HTTP against a real `rwad devnet` node.

One node in manual mining mode serves the whole module, so each test decides when blocks
are made (dev_mine). Tests that send transactions use their own fresh accounts, funded
with dev_setBalance, so they do not depend on one another's nonces or balances.
JSON conventions checked throughout: amounts are decimal strings, bytes are 0x-hex,
addresses are rwa1... text.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time

import pytest

from rwachain.genesis import devnet
from rwachain.modules.core.crypto import (
    Keypair,
    decode_address,
    encode_address,
    module_address,
    verify,
)
from rwachain.modules.roles.module import ROLES
from rwachain.node.block import Header
from rwachain.rpc.methods.modules import chain_table
from rwachain.state.codec import decode, pack_int
from rwachain.state.merkle import merkle_root
from rwachain.state.proof import verify_proof
from tests.mech import hx, transfer
from tests.rpcnode import RpcError, RpcNode

METHODS = chain_table()  # the table the node serves

KEYS = devnet.dev_keys()
CHAIN = devnet.CHAIN_ID
FUND = 10**12  # what fresh() gives each new account, native base units

# Methods this file exercises (checked against the table by test_every_method_is_exercised).
EXERCISED = {
    "chain_status", "chain_getBlock", "chain_getBlockByHash", "chain_getHeader", "chain_params",
    "account_get", "bank_balance", "bank_supply", "bank_params", "roles_holders", "roles_params",
    "tx_send", "tx_sendAndWait", "tx_simulate", "tx_estimateFee", "tx_get", "tx_getReceipt", "tx_search",
    "state_get", "dev_mine", "dev_setTime", "dev_advanceTime", "dev_setBalance", "rpc.discover",
}
# WebSocket-only methods (tested over /ws elsewhere), and dev_ methods added after the issue
# that this file does not cover (tests/test_dev_snapshot.py does).
NOT_HERE = {"chain_subscribe", "chain_unsubscribe", "dev_snapshot", "dev_revert", "dev_dumpState", "dev_loadState"}
NOT_HERE |= {"chain_metrics"}  # tests/test_export_report.py exercises it
NOT_HERE |= {"chain_validator"}  # tests/test_wire_contract.py exercises it
# The mechanism modules' methods: tests/test_mechanism_rpc.py exercises each of them.
NOT_HERE |= {m for m in METHODS if m.split("_")[0] in ("assets", "valuation", "oracle", "pool", "tranche", "market", "stable", "insurance",
                                                  "gov", "reserve", "native")}
CALLED: set[str] = set()

HEX_RE = re.compile(r"^0x([0-9a-f]{2})*$")
ADDR_RE = re.compile(r"^rwa1[02-9ac-hj-np-z]{38}$")


def is_hex(v, nbytes: int | None = None) -> bool:
    return type(v) is str and bool(HEX_RE.match(v)) and (nbytes is None or len(v) == 2 + 2 * nbytes)


def is_amount(v) -> bool:
    return type(v) is str and v.isdigit()


def is_addr(v) -> bool:
    return type(v) is str and bool(ADDR_RE.match(v))


def unhex(v: str) -> bytes:
    assert is_hex(v), v
    return bytes.fromhex(v[2:])


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = RpcNode(tmp_path_factory.mktemp("methods") / "home", mining="manual")
    n.start()
    try:
        yield n
    finally:
        n.stop()


def call(node: RpcNode, method: str, params=None, **kw):
    CALLED.add(method)
    return node.call(method, params, **kw)


def error(node: RpcNode, method: str, params=None) -> dict:
    """The error object of a call that must fail."""
    CALLED.add(method)
    resp = node.raw_call(method, params)
    assert "error" in resp and "result" not in resp, resp
    return resp["error"]


_fresh_ids = iter(range(10_000, 20_000))


def fresh(node: RpcNode, amount: int = FUND) -> Keypair:
    """A new account (never seen on chain) funded with dev_setBalance in a block of its own."""
    key = Keypair.dev(next(_fresh_ids))
    assert call(node, "account_get", [key.address_text])["balances"] == {}
    call(node, "dev_setBalance", [key.address_text, "rwa", amount])
    return key


def tx_hash(raw_hex: str) -> str:
    return "0x" + hashlib.sha256(unhex(raw_hex)).hexdigest()


def head(node: RpcNode) -> int:
    return call(node, "chain_status")["height"]


def balance(node: RpcNode, key: Keypair, denom: str = "rwa", height=None) -> int:
    params = [key.address_text, denom] if height is None else [key.address_text, denom, height]
    v = call(node, "bank_balance", params)
    assert is_amount(v), v
    return int(v)


# ----- chain_ --------------------------------------------------------------------------
def test_chain_status_blocks_and_headers(node):
    status = call(node, "chain_status")
    assert status["chainId"] == CHAIN
    assert type(status["height"]) is int and type(status["time"]) is int
    assert is_hex(status["hash"], 32) and is_hex(status["stateRoot"], 32)
    h0 = status["height"]

    mined = call(node, "dev_mine", {"blocks": 2})
    assert mined == [h0 + 1, h0 + 2]
    status = call(node, "chain_status")
    assert status["height"] == h0 + 2

    # one block with a transaction, so full/hashes differ
    sender, to = fresh(node), Keypair.dev(20_001)
    raw = hx(transfer(sender, 0, to, 77))
    assert call(node, "tx_send", [raw]) == tx_hash(raw)
    (h,) = call(node, "dev_mine")
    status = call(node, "chain_status")
    assert status["height"] == h

    block = call(node, "chain_getBlock", [h])
    assert block == call(node, "chain_getBlock", {"height": h, "full": False})
    assert block["hash"] == status["hash"] == block["header"]["hash"]
    assert block["txs"] == [tx_hash(raw)]
    assert is_hex(block["signature"], 64)
    header = block["header"]
    assert header["height"] == h and header["stateRoot"] == status["stateRoot"] and header["time"] == status["time"]
    assert header["proposer"] == devnet.validator_key().address_text
    assert header["parent"] == call(node, "chain_getBlock", [h - 1])["hash"]
    assert header["appVersion"] == 1
    assert unhex(header["txsRoot"]) == merkle_root([unhex(raw)])

    # the JSON header is faithful: rebuilt, it hashes to the block hash and the validator signed it
    rebuilt = Header(header["height"], unhex(header["parent"]), header["time"], decode_address(header["proposer"]),
                     unhex(header["txsRoot"]), unhex(header["receiptsRoot"]), unhex(header["stateRoot"]),
                     header["appVersion"])
    assert "0x" + rebuilt.hash.hex() == block["hash"]
    assert verify(devnet.validator_key().pubkey, rebuilt.sign_bytes(), unhex(block["signature"]))

    full = call(node, "chain_getBlock", [h, True])
    assert {k: v for k, v in full.items() if k != "txs"} == {k: v for k, v in block.items() if k != "txs"}
    (t,) = full["txs"]
    assert t["hash"] == tx_hash(raw) and t["raw"] == raw
    assert t["sender"] == sender.address_text and t["pubkey"] == "0x" + sender.pubkey.hex()
    assert t["module"] == "bank" and t["call"] == "transfer" and t["nonce"] == "0" and t["expiry"] == "0"
    assert t["fee"] == "5000"
    assert t["args"] == {"to": to.address_text, "denom": "rwa", "amount": "77"}
    assert t["size"] == len(unhex(raw))

    assert call(node, "chain_getBlockByHash", [block["hash"]]) == block
    assert call(node, "chain_getBlockByHash", {"hash": block["hash"], "full": True}) == full
    # a dev_setBalance block (its entry is no transaction) still renders in full
    (dev_block,) = [b for b in (call(node, "chain_getBlock", [x, True]) for x in range(h0 + 3, h)) if b["txs"]]
    assert set(dev_block["txs"][0]) == {"hash", "raw"}

    assert call(node, "chain_getHeader") == header
    assert call(node, "chain_getHeader", [h - 1]) == call(node, "chain_getBlock", [h - 1])["header"]
    assert call(node, "chain_getHeader", {"height": str(h)}) == header  # integers also as decimal strings

    for method, params in [("chain_getBlock", [h + 100]), ("chain_getHeader", [h + 100]),
                           ("chain_getBlockByHash", ["0x" + "ab" * 32])]:
        assert error(node, method, params)["code"] == -32001


def test_chain_params(node):
    params = call(node, "chain_params")
    assert params == {"chainId": CHAIN, "nonceWindow": "64", "maxTxBytes": "16384", "maxBlockTxs": "20000",
                      "feePerByte": "10", "feePrice": "1"}
    assert call(node, "chain_params", [0]) == params  # at genesis
    assert error(node, "chain_params", [head(node) + 5])["code"] == -32002


# ----- account_, bank_, roles_ --------------------------------------------------------------
def test_account_get_balances_nonce_roles(node):
    guardian = KEYS[5]  # no other test touches dev account 5
    acct = call(node, "account_get", [guardian.address_text])
    assert acct == {"address": guardian.address_text, "nonce": 0, "pendingNonce": 0, "roles": ["guardian"],
                    "balances": {"rusd": str(devnet.STABLE_EACH), "rwa": str(devnet.NATIVE_EACH)}}
    assert call(node, "account_get", [KEYS[0].address_text])["roles"] == []
    nobody = Keypair.dev(20_002)
    assert call(node, "account_get", {"address": nobody.address_text}) == {
        "address": nobody.address_text, "nonce": 0, "pendingNonce": 0, "balances": {}, "roles": []}
    assert error(node, "account_get", [guardian.address_text, head(node) + 1])["code"] == -32002


def test_account_get_pending_nonce_with_queued_future_nonces(node):
    key, to = fresh(node), Keypair.dev(20_003)
    funded_at = head(node)
    for n in (0, 1, 3):  # 3 is queued behind the gap at 2
        call(node, "tx_send", [hx(transfer(key, n, to, 10))])
    acct = call(node, "account_get", [key.address_text])
    assert (acct["nonce"], acct["pendingNonce"]) == (0, 2)
    assert acct["balances"] == {"rwa": str(FUND)}  # nothing executed yet

    (h1,) = call(node, "dev_mine")  # 0 and 1 are ready; 3 waits
    acct = call(node, "account_get", [key.address_text])
    assert (acct["nonce"], acct["pendingNonce"]) == (2, 2)
    assert acct["balances"] == {"rwa": str(FUND - 2 * 5010)}

    call(node, "tx_send", [hx(transfer(key, 2, to, 10))])  # fills the gap: 2 and 3 are ready
    assert call(node, "account_get", [key.address_text])["pendingNonce"] == 4
    (h2,) = call(node, "dev_mine")
    acct = call(node, "account_get", [key.address_text])
    assert (acct["nonce"], acct["pendingNonce"]) == (4, 4)
    assert acct["balances"] == {"rwa": str(FUND - 4 * 5010)}

    # at past heights
    past = call(node, "account_get", [key.address_text, h1])
    assert past["nonce"] == 2 and past["balances"] == {"rwa": str(FUND - 2 * 5010)}
    past = call(node, "account_get", {"address": key.address_text, "height": funded_at})
    assert past["nonce"] == 0 and past["balances"] == {"rwa": str(FUND)}
    past = call(node, "account_get", [key.address_text, funded_at - 1])
    assert past["nonce"] == 0 and past["balances"] == {}
    assert call(node, "account_get", [to.address_text, h2])["balances"] == {"rwa": "40"}


def test_bank_balance_and_supply_at_past_heights(node):
    key = Keypair.dev(20_004)
    h0 = head(node)
    s0 = int(call(node, "bank_supply", ["rwa"]))
    rusd0 = call(node, "bank_supply", ["rusd"])
    assert is_amount(rusd0) and s0 > 0
    assert balance(node, key) == 0

    h1 = call(node, "dev_setBalance", [key.address_text, "rwa", 123])
    assert h1 == h0 + 1 == head(node)
    assert balance(node, key) == 123
    assert call(node, "bank_supply", ["rwa"]) == str(s0 + 123)

    h2 = call(node, "dev_setBalance", {"address": key.address_text, "denom": "rwa", "amount": "23"})
    assert h2 == h1 + 1
    assert balance(node, key) == 23 and call(node, "bank_supply", ["rwa"]) == str(s0 + 23)

    h3 = call(node, "dev_setBalance", [KEYS[9].address_text, "rusd", 0])  # burns all of one holder's rusd
    assert call(node, "bank_supply", ["rusd"]) == str(int(rusd0) - devnet.STABLE_EACH)

    # the past stays as it was
    assert balance(node, key, height=h0) == 0 and call(node, "bank_supply", ["rwa", h0]) == str(s0)
    assert balance(node, key, height=h1) == 123 and call(node, "bank_supply", ["rwa", h1]) == str(s0 + 123)
    assert balance(node, key, height=h2) == 23 and call(node, "bank_supply", {"denom": "rwa", "height": h2}) == str(s0 + 23)
    assert call(node, "bank_supply", ["rusd", h2]) == rusd0
    assert balance(node, KEYS[9], "rusd", h2) == devnet.STABLE_EACH and balance(node, KEYS[9], "rusd", h3) == 0
    assert call(node, "bank_supply", ["nosuchdenom"]) == "0"
    assert error(node, "bank_supply", ["rwa", h3 + 1])["code"] == -32002
    assert error(node, "dev_setBalance", [key.address_text, "nosuchdenom", 1])["code"] == -32602


def test_bank_params(node):
    p = call(node, "bank_params")
    assert p["nativeDenom"] == "rwa"
    assert p["denoms"]["rwa"] == {"symbol": "RWA", "decimals": 6, "kind": "native"}
    assert p["denoms"]["rusd"] == {"symbol": "RUSD", "decimals": 6, "kind": "stable"}
    assert p["denoms"]["unit/p1/t0"] == {"symbol": "P1T0", "decimals": 0, "kind": "unit"}  # the demo pool
    assert p["moduleAccounts"] == {"reserve": encode_address(module_address("reserve")),
                                   "vault": encode_address(module_address("vault")),
                                   "insurance": encode_address(module_address("insurance")),
                                   "treasury": encode_address(module_address("treasury")),
                                   "pool/1": encode_address(module_address("pool/1"))}
    assert is_addr(p["moduleAccounts"]["reserve"])


def test_roles(node):
    assert call(node, "roles_params") == {"roles": list(ROLES)}
    for i, role in devnet.ROLE_OF.items():
        assert call(node, "roles_holders", [role]) == [KEYS[i].address_text]
        assert role in call(node, "account_get", [KEYS[i].address_text])["roles"]
    assert sorted(call(node, "roles_holders", {"role": "operator"})) == sorted(
        KEYS[devnet.OPERATOR_ACCOUNT0 + j].address_text for j in range(devnet.OPERATORS))
    err = error(node, "roles_holders", ["emperor"])
    assert err["code"] == -32602 and "role" in err["message"]


# ----- tx_ ----------------------------------------------------------------------------------
def test_tx_estimate_simulate_send_get_receipt(node):
    key, to = fresh(node), Keypair.dev(20_005)
    raw = hx(transfer(key, 0, to, 1000))
    size = len(unhex(raw))

    est = call(node, "tx_estimateFee", [raw])
    assert est == {"size": size, "cost": 1000 + 10 * size, "minFee": str(1000 + 10 * size)}
    bad_sig = raw[:-2] + ("00" if raw[-2:] != "00" else "01")
    assert call(node, "tx_estimateFee", [bad_sig]) == est  # the signature is not checked

    before = call(node, "chain_status")
    sim = call(node, "tx_simulate", [raw])
    assert sim["txHash"] == tx_hash(raw) and sim["code"] == 0 and sim["error"] == ""
    assert sim["fee"] == "5000" and sim["cost"] == est["cost"]
    assert {"type": "bank.transfer", "attrs": {"sender": key.address_text, "recipient": to.address_text,
                                               "denom": "rwa", "amount": "1000"}} in sim["events"]
    # a simulation changes nothing: no block, no state, no mempool entry
    assert call(node, "chain_status") == before
    assert balance(node, to) == 0 and balance(node, key) == FUND
    assert call(node, "account_get", [key.address_text])["pendingNonce"] == 0
    assert error(node, "tx_get", [tx_hash(raw)])["code"] == -32001
    # any unused nonce may be simulated
    assert call(node, "tx_simulate", [hx(transfer(key, 7, to, 1))])["code"] == 0
    # a failing execution shows its code in the receipt ...
    sim = call(node, "tx_simulate", [hx(transfer(key, 0, to, 10 * FUND))])
    assert (sim["code"], sim["error"], sim["fee"]) == (51, "insufficient_funds", "5000")
    # ... and a refused one as the error 1000 + code
    err = error(node, "tx_simulate", [hx(transfer(key, 0, to, 1, fee=10))])
    assert err["code"] == 1012 and err["data"]["name"] == "fee_too_low"
    assert call(node, "chain_status") == before

    h = call(node, "tx_send", {"tx": raw})
    assert h == tx_hash(raw)
    pending = call(node, "tx_get", [h])
    assert pending["status"] == "pending" and "height" not in pending
    assert pending["hash"] == h and pending["raw"] == raw and pending["sender"] == key.address_text
    assert pending["args"] == {"to": to.address_text, "denom": "rwa", "amount": "1000"}
    assert error(node, "tx_getReceipt", [h])["code"] == -32001

    (height,) = call(node, "dev_mine")
    got = call(node, "tx_get", {"hash": h})
    assert (got["status"], got["height"], got["index"]) == ("included", height, 0)
    assert {k: v for k, v in got.items() if k not in ("status", "height", "index")} == \
        {k: v for k, v in pending.items() if k != "status"}
    receipt = call(node, "tx_getReceipt", [h])
    assert receipt["txHash"] == h and receipt["height"] == height and receipt["index"] == 0
    assert (receipt["code"], receipt["error"], receipt["message"]) == (0, "", "")
    assert receipt["fee"] == "5000" and receipt["cost"] == est["cost"]
    sim_ok = call(node, "tx_simulate", [hx(transfer(key, 1, to, 1000))])
    assert [e["type"] for e in receipt["events"]] == ["tx.fee", "bank.transfer"] == \
        [e["type"] for e in sim_ok["events"]]
    assert receipt["events"][0]["attrs"] == {"amount": "5000", "payer": key.address_text}
    assert balance(node, to) == 1000 and balance(node, key) == FUND - 6000
    assert error(node, "tx_get", ["0x" + "cd" * 32])["code"] == -32001


def test_tx_send_and_wait(node):
    key, to = fresh(node), Keypair.dev(20_006)
    # manual mining: nothing includes it, so the wait times out and the tx stays pending
    raw0 = hx(transfer(key, 0, to, 5))
    t0 = time.monotonic()
    err = error(node, "tx_sendAndWait", [raw0, 0.3])
    assert time.monotonic() - t0 < 5
    assert err["code"] == -32004 and err["data"]["hash"] == tx_hash(raw0)
    assert call(node, "tx_get", [tx_hash(raw0)])["status"] == "pending"

    # a waiter in another thread is answered by the block that includes its transaction
    raw1 = hx(transfer(key, 1, to, 6))
    out: dict = {}

    def wait():
        try:
            out["receipt"] = call(node, "tx_sendAndWait", {"tx": raw1, "timeout": 20})
        except Exception as exc:  # reported below
            out["error"] = exc

    th = threading.Thread(target=wait)
    th.start()
    deadline = time.monotonic() + 10
    while call(node, "account_get", [key.address_text])["pendingNonce"] < 2:
        assert time.monotonic() < deadline and "error" not in out, out
        time.sleep(0.02)
    (height,) = call(node, "dev_mine")
    th.join(20)
    assert not th.is_alive() and "error" not in out, out
    receipt = out["receipt"]
    assert receipt["txHash"] == tx_hash(raw1) and receipt["code"] == 0
    assert receipt["height"] == height and receipt["index"] == 1  # after nonce 0 in the same block
    assert call(node, "tx_getReceipt", [tx_hash(raw0)])["height"] == height
    # already included: answers at once with the receipt
    with pytest.raises(RpcError) as info:
        call(node, "tx_sendAndWait", [raw1])
    assert info.value.code == 1010


def test_tx_search(node):
    sender, r1, r2 = fresh(node), Keypair.dev(20_007), Keypair.dev(20_008)
    funded_at = head(node)
    hashes: list[str] = []
    heights = []
    nonce = 0
    for count in (10, 10, 5):
        for _ in range(count):
            to = r1 if nonce % 2 == 0 else r2
            hashes.append(call(node, "tx_send", [hx(transfer(sender, nonce, to, 100 + nonce))]))
            nonce += 1
        heights += call(node, "dev_mine")
    a, b, c = heights

    def search(**q):
        return call(node, "tx_search", q)

    page = search(sender=sender.address_text)
    assert page["nextCursor"] is None
    assert [r["txHash"] for r in page["receipts"]] == hashes
    assert [(r["height"], r["index"]) for r in page["receipts"]] == \
        [(a, i) for i in range(10)] + [(b, i) for i in range(10)] + [(c, i) for i in range(5)]

    # pagination: pages of 10 over 25 results, then no cursor
    got, cursor, pages = [], None, 0
    while True:
        q = {"sender": sender.address_text, "limit": 10}
        if cursor is not None:
            q["cursor"] = cursor
        page = search(**q)
        pages += 1
        assert len(page["receipts"]) == (10 if page["nextCursor"] else 5)
        got += [r["txHash"] for r in page["receipts"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3 and got == hashes

    # by module in a height range
    page = search(module="bank", fromHeight=a, toHeight=c)
    assert [r["txHash"] for r in page["receipts"]] == hashes

    # height range only
    page = search(sender=sender.address_text, fromHeight=b, toHeight=b)
    assert [r["txHash"] for r in page["receipts"]] == hashes[10:20]
    assert search(fromHeight=b, toHeight=b)["receipts"] == page["receipts"]
    assert search(sender=sender.address_text, toHeight=a - 1)["receipts"] == []

    # event type and attributes (JSON form: addresses rwa1..., amounts decimal strings)
    page = search(eventType="bank.transfer", attrs={"recipient": r1.address_text}, fromHeight=a)
    assert [r["txHash"] for r in page["receipts"]] == hashes[0::2]
    page = search(eventType="bank.transfer", attrs={"sender": sender.address_text, "amount": "103"})
    assert [r["txHash"] for r in page["receipts"]] == [hashes[3]]
    page = search(eventType="dev.setBalance", attrs={"account": sender.address_text})
    assert [r["height"] for r in page["receipts"]] == [funded_at]
    page = search(sender=sender.address_text, eventType="tx.fee", limit=1000)
    assert len(page["receipts"]) == 25
    assert search(eventType="bank.transfer", attrs={"recipient": Keypair.dev(20_009).address_text})["receipts"] == []

    assert error(node, "tx_search", {"attrs": {"a": "b"}})["code"] == -32602
    assert error(node, "tx_search", {"cursor": "garbage"})["code"] == -32602


def test_tx_search_by_module_dev_finds_dev_set_balance(node):
    key = Keypair.dev(20_012)
    h = call(node, "dev_setBalance", [key.address_text, "rwa", 1])
    # the event index finds it ...
    by_event = call(node, "tx_search", {"eventType": "dev.setBalance", "fromHeight": h, "toHeight": h})["receipts"]
    assert [r["height"] for r in by_event] == [h]
    # ... and so should the module index that holds it
    by_module = call(node, "tx_search", {"module": "dev", "fromHeight": h, "toHeight": h})["receipts"]
    assert by_module == by_event


AMOUNT_KEYS = {"fee", "minFee", "amount"}
HEX_KEYS = {"hash", "txHash", "raw", "pubkey", "stateRoot", "parent", "txsRoot", "receiptsRoot", "signature", "root"}
ADDR_KEYS = {"sender", "proposer", "address", "to", "recipient", "payer", "account"}


def _check_conventions(v, path="") -> int:
    """Walk a JSON result: amounts decimal strings, bytes 0x-hex, addresses rwa1...; fields seen."""
    seen = 0
    if isinstance(v, dict):
        for k, x in v.items():
            if k in AMOUNT_KEYS:
                assert is_amount(x), f"{path}.{k}: {x!r} is not a decimal string"
                seen += 1
            elif k in HEX_KEYS:
                assert is_hex(x), f"{path}.{k}: {x!r} is not 0x-hex"
                seen += 1
            elif k in ADDR_KEYS:
                assert is_addr(x), f"{path}.{k}: {x!r} is not an rwa1 address"
                seen += 1
            elif k == "balances":
                assert all(is_amount(a) for a in x.values()), f"{path}.balances: {x!r}"
                seen += 1
            else:
                seen += _check_conventions(x, f"{path}.{k}")
    elif isinstance(v, list):
        for i, x in enumerate(v):
            seen += _check_conventions(x, f"{path}[{i}]")
    return seen


def test_json_conventions(node):
    key, to = fresh(node), Keypair.dev(20_013)
    raw = hx(transfer(key, 0, to, 2**70))  # an amount beyond 2^53 stays exact as a decimal string
    call(node, "dev_setBalance", [key.address_text, "rwa", str(2**72)])  # big integers go in as strings too
    h = call(node, "tx_send", [raw])
    pending = call(node, "tx_get", [h])
    (height,) = call(node, "dev_mine")
    results = [pending, call(node, "tx_get", [h]), call(node, "tx_getReceipt", [h]),
               call(node, "chain_getBlock", [height, True]), call(node, "chain_getBlock", [height]),
               call(node, "account_get", [to.address_text]), call(node, "tx_estimateFee", [raw]),
               call(node, "tx_simulate", [hx(transfer(key, 1, to, 5))]),
               call(node, "tx_search", {"sender": key.address_text}), call(node, "chain_status"),
               call(node, "state_get", ["0x" + (b"acct/" + key.address).hex()])]
    assert sum(_check_conventions(r) for r in results) > 50
    assert call(node, "tx_getReceipt", [h])["events"][1]["attrs"]["amount"] == str(2**70)
    assert call(node, "bank_balance", [to.address_text, "rwa"]) == str(2**70)
    assert call(node, "account_get", [key.address_text])["balances"]["rwa"] == str(2**72 - 2**70 - 5000)


# ----- state_ -------------------------------------------------------------------------------
def _proof(p: dict) -> dict:
    """The proof of state_get with hex turned into bytes, as state.proof.verify_proof takes it."""
    return {"nodes": [[bm, [unhex(x) for x in hs]] for bm, hs in p["nodes"]],
            "leaf": None if p["leaf"] is None else [unhex(x) for x in p["leaf"]]}


def test_state_get_with_verified_proofs(node):
    key, to = fresh(node), Keypair.dev(20_010)
    call(node, "tx_send", [hx(transfer(key, 0, to, 9))])
    (h_old,) = call(node, "dev_mine")
    call(node, "tx_send", [hx(transfer(key, 1, to, 9))])
    (h,) = call(node, "dev_mine")
    status = call(node, "chain_status")

    nonce_key = b"acct/" + key.address
    entry = call(node, "state_get", ["0x" + nonce_key.hex()])
    assert entry["height"] == h and entry["root"] == status["stateRoot"]
    assert unhex(entry["value"]) == pack_int(2)
    root, proof = unhex(entry["root"]), _proof(entry["proof"])
    assert verify_proof(root, nonce_key, unhex(entry["value"]), proof)
    assert not verify_proof(root, nonce_key, pack_int(3), proof)
    assert not verify_proof(root, nonce_key, None, proof)

    bal_key = b"bank/bal/" + to.address + b"rwa"
    entry = call(node, "state_get", {"key": "0x" + bal_key.hex()})
    assert decode(unhex(entry["value"])) == 18 == balance(node, to)
    assert verify_proof(unhex(entry["root"]), bal_key, unhex(entry["value"]), _proof(entry["proof"]))

    absent = b"acct/" + Keypair.dev(20_011).address
    entry = call(node, "state_get", ["0x" + absent.hex()])
    assert entry["value"] is None
    root, proof = unhex(entry["root"]), _proof(entry["proof"])
    assert verify_proof(root, absent, None, proof)
    assert not verify_proof(root, absent, pack_int(1), proof)

    # at a past height: that height's root and value
    entry = call(node, "state_get", ["0x" + nonce_key.hex(), h_old])
    assert entry["height"] == h_old and entry["root"] == call(node, "chain_getHeader", [h_old])["stateRoot"]
    assert unhex(entry["value"]) == pack_int(1)
    assert verify_proof(unhex(entry["root"]), nonce_key, pack_int(1), _proof(entry["proof"]))


# ----- dev_ ---------------------------------------------------------------------------------
def test_dev_time_moves_block_times(node):
    last = call(node, "chain_status")["time"]  # the genesis time on a fresh node
    target = max(last, int(time.time())) + 100_000
    now = call(node, "dev_setTime", [target])
    assert target <= now <= target + 2
    (h,) = call(node, "dev_mine")
    t1 = call(node, "chain_getHeader", [h])["time"]
    assert target <= t1 <= target + 5

    moved = call(node, "dev_advanceTime", [3600])
    assert target + 3600 <= moved <= target + 3600 + 5
    (h,) = call(node, "dev_mine")
    t2 = call(node, "chain_getHeader", [h])["time"]
    assert target + 3600 <= t2 <= target + 3600 + 5
    assert call(node, "chain_status")["time"] == t2

    # an explicit block time
    (h,) = call(node, "dev_mine", {"time": t2 + 500})
    assert call(node, "chain_getHeader", [h])["time"] == t2 + 500

    # time never goes backwards
    for method, params in [("dev_setTime", [t2 + 499]), ("dev_mine", {"time": t2})]:
        err = error(node, method, params)
        assert err["code"] == -32006, err
    heights = call(node, "dev_mine", [3])
    times = [call(node, "chain_getHeader", [x])["time"] for x in heights]
    assert times == sorted(times) and times[0] >= t2 + 500
    assert call(node, "dev_mine", {"blocks": 0}) == []


# ----- rpc.discover and coverage -----------------------------------------------------------
def test_rpc_discover(node):
    doc = call(node, "rpc.discover")
    assert doc["openrpc"].startswith("1.3")
    by_name = {m["name"]: m for m in doc["methods"]}
    assert set(by_name) == set(METHODS)
    for name, m in by_name.items():
        assert [p["name"] for p in m["params"]] == [p.name for p in METHODS[name].params]
        assert m["result"]["schema"] == METHODS[name].result.schema
        assert ("tags" in m) == name.startswith("dev_"), name
    assert -32001 in {e["code"] for e in by_name["chain_getBlock"]["errors"]}
    assert -32004 in {e["code"] for e in by_name["tx_sendAndWait"]["errors"]}


def test_every_method_is_exercised():
    assert not EXERCISED - set(METHODS), EXERCISED - set(METHODS)
    missing = {m for m in METHODS if m not in EXERCISED and m not in NOT_HERE}
    assert not missing, f"methods of the table no test in this file exercises: {sorted(missing)}"
    if len(CALLED) > 1:  # the other tests of this module ran: check they called what the list says
        assert not EXERCISED - CALLED, sorted(EXERCISED - CALLED)
