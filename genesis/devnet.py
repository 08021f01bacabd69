"""The embedded devnet genesis: 10 deterministic, prefunded dev accounts, the roles, four
oracle operators, the feeds with their policies, and three verified demo assets.

Dev account i (0..9) has the Ed25519 seed sha256(b"rwachain/devkey/" || i as 4 bytes,
big-endian) (modules/core/crypto.py); the devnet validator signs with dev key 4294967295.
Oracle operator j (0..3) is dev account 6 + j; its BLS secret key is the IETF KeyGen of
sha256(b"rwachain/oracle-devkey/" || j as 4 bytes, big-endian) (modules/core/bls.py).
These keys are public: never use them outside a devnet.

build(t) makes the genesis for genesis time t: demo schedules start at t and feed values
are observed at t. genesis/devnet.json is build(GENESIS_TIME), the pinned instance the
tests replay; `rwad devnet` builds one for the current time, so its feeds are fresh and
its demo loans current.
"""

from __future__ import annotations

import hashlib
import json
import os

from rwachain.modules.assets import schedule as schedules
from rwachain.modules.core import bls
from rwachain.modules.core.crypto import Keypair, encode_address, module_address
from rwachain.modules.core.fixed import WAD
from rwachain.modules.oracle import feeds

DEV_ACCOUNTS = 10
VALIDATOR_INDEX = 0xFFFFFFFF
CHAIN_ID = "rwa-devnet-1"
GENESIS_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
NATIVE_EACH = 1_000_000 * 10**6  # 1,000,000 RWA (6 decimals)
STABLE_EACH = 1_000_000 * 10**6  # 1,000,000 RUSD (6 decimals)
ROLE_OF = {1: "originator", 2: "verifier", 3: "servicer", 4: "custodian", 5: "guardian"}
OPERATORS = 4
OPERATOR_ACCOUNT0 = 6  # operator j is dev account 6 + j
QUORUM = 3
DAY = 86_400
MONTH = 30 * DAY

# Feed values at genesis (wad unless noted), grades A..E in order.
RATE = 45 * WAD // 1000  # 4.5 % APR benchmark
SPREAD = [10, 20, 35, 60, 100]  # per mille APR
INTENSITY = [5, 15, 40, 100, 250]  # per mille per year
LGD = [400, 450, 500, 600, 750]  # per mille
POLICIES = {
    "rate": {"quorum": QUORUM, "maxAge": DAY, "window": 3600, "stepAbs": 25 * WAD // 10_000, "stepRel": 0,
             "delay": 3600, "lo": 0, "hi": WAD // 4},
    "spread": {"quorum": QUORUM, "maxAge": 7 * DAY, "window": 3600, "stepAbs": WAD // 100, "stepRel": 0,
               "delay": 3600, "lo": 0, "hi": WAD},
    "intensity": {"quorum": QUORUM, "maxAge": 7 * DAY, "window": 3600, "stepAbs": 2 * WAD // 100, "stepRel": 0,
                  "delay": 3600, "lo": 0, "hi": WAD},
    "lgd": {"quorum": QUORUM, "maxAge": 30 * DAY, "window": 3600, "stepAbs": 5 * WAD // 100, "stepRel": 0,
            "delay": 3600, "lo": 0, "hi": WAD},
    "grade": {"quorum": QUORUM, "maxAge": 365 * DAY, "window": DAY, "stepAbs": 1, "stepRel": 0, "delay": 0,
              "lo": 0, "hi": 4},
    "price": {"quorum": QUORUM, "maxAge": DAY, "window": 3600, "stepAbs": 0, "stepRel": WAD // 10, "delay": 3600,
              "lo": 0, "hi": 10**30},
    "reserve": {"quorum": QUORUM, "maxAge": 7 * DAY, "window": 3600, "stepAbs": 0, "stepRel": WAD // 5,
                "delay": 3600, "lo": 0, "hi": 10**30},
}
# Demo assets: (kind, schedule kind, principal RUSD, rate per mille, months, grade, grace days)
DEMO_ASSETS = [
    ("loan", "equal", 100_000, 120, 12, "B", 30),
    ("receivable", "bullet", 50_000, 80, 3, "A", 30),
    ("revenue_right", "interest_only", 250_000, 100, 24, "C", 60),
    ("loan", "equal", 300_000, 110, 24, "B", 30),  # 4 and 5: the demo pool
    ("electricity", "equal", 200_000, 90, 36, "A", 60),
]
DEMO_POOL_ASSETS = [4, 5]
RESERVE_FUND = 1_000_000 * 10**6  # RUSD the reserve holds at genesis
DEMO_UNIT = 100 * 10**6  # 100 RUSD of face per unit
DEMO_SENIOR_SHARE = 80  # per cent of par, at 5 % APR; the junior takes the residual
DEMO_EXIT_UNITS = 50  # senior units dev 8 swaps into the stable token at genesis
DEMO_STAKERS = [6, 7, 9]  # dev accounts staking into the insurance fund
DEMO_STAKE = 100_000 * 10**6  # RWA each
DEMO_PROPOSAL = "discount=25000000000000000"  # reserve discount 3 % -> 2.5 %, open for votes
TREASURY_FUND = 10_000_000 * 10**6  # RWA the treasury holds at genesis (direct sales paid in native)
PATH = os.path.join(os.path.dirname(__file__), "devnet.json")


def dev_keys() -> list[Keypair]:
    return [Keypair.dev(i) for i in range(DEV_ACCOUNTS)]


def validator_key() -> Keypair:
    return Keypair.dev(VALIDATOR_INDEX)


def operator_secret(j: int) -> int:
    """The BLS secret key of devnet oracle operator j (documented above; public)."""
    return bls.secret_from_seed(hashlib.sha256(b"rwachain/oracle-devkey/" + j.to_bytes(4, "big")).digest())


def _oracle(keys: list[Keypair], t: int) -> dict:
    ops = []
    for j in range(OPERATORS):
        sk = operator_secret(j)
        ops.append({"address": keys[OPERATOR_ACCOUNT0 + j].address_text,
                    "blsPubkey": "0x" + bls.public_key(sk).hex(), "pop": "0x" + bls.prove_possession(sk).hex()})
    vals = {"rate": RATE}
    for i, g in enumerate(feeds.GRADES):
        vals[f"spread/{g}"] = SPREAD[i] * WAD // 1000
        vals[f"intensity/{g}"] = INTENSITY[i] * WAD // 1000
        vals[f"lgd/{g}"] = LGD[i] * WAD // 1000
    vals["price/rwa"] = WAD // 4  # 1 RWA = 0.25 RUSD
    vals[f"reserve/{keys[4].address_text}"] = 2 * DEV_ACCOUNTS * STABLE_EACH
    return {"operators": ops, "policies": {c: {k: str(v) for k, v in p.items()} for c, p in POLICIES.items()},
            "feeds": [{"id": f, "value": str(v), "observedAt": t} for f, v in vals.items()]}


def _assets(keys: list[Keypair], t: int) -> dict:
    out = []
    for n, (kind, sk, principal, rate, months, grade, grace) in enumerate(DEMO_ASSETS, 1):
        amount = principal * 10**6
        apr = rate * WAD // 1000
        rows = schedules.generate(sk, amount, apr, t, MONTH, months)
        out.append({"id": n, "kind": kind, "originator": keys[1].address_text, "principal": str(amount),
                    "rate": str(apr), "grace": grace * DAY,
                    "docHash": "0x" + hashlib.sha256(f"rwachain devnet demo asset {n}".encode()).hexdigest(),
                    "status": "verified", "grade": grade, "verifier": keys[2].address_text,
                    "registeredAt": t, "verifiedAt": t,
                    "schedule": [[str(d), str(p), str(i)] for d, p, i in rows]})
    return {"assets": out}


def build(genesis_time: int = GENESIS_TIME) -> dict:
    """The devnet genesis document for a genesis time (GENESIS_TIME: genesis/devnet.json):
    the base document, then the demo pool, its holders and resting orders made by real
    transactions on a throwaway chain and exported (demo_market)."""
    return demo_market(base(genesis_time))


def at(genesis_time: int) -> dict:
    """build(genesis_time), fast: genesis/devnet.json with every time moved by the same
    amount (a schedule, a mark or a price depends on time differences only; a feed's step
    window is recomputed). tests/test_devnet.py checks at(t) == build(t)."""
    with open(PATH) as f:
        doc = json.load(f)
    shift = genesis_time - doc["genesisTime"]

    def mv(v):
        return type(v)(int(v) + shift) if v not in (None, 0, "0") else v

    doc["genesisTime"] = genesis_time
    windows = {c: p["window"] for c, p in POLICIES.items()}
    for f in doc["oracle"]["feeds"]:
        for k in ("observedAt", "updatedAt"):
            f[k] = mv(f[k])
        f["windowId"] = str(int(f["updatedAt"]) // windows[feeds.class_of(f["id"])])
        if f.get("pending"):
            for k in ("observedAt", "activatesAt"):
                f["pending"][k] = mv(f["pending"][k])
    for a in doc["assets"]["assets"]:
        for k in ("registeredAt", "verifiedAt", "check"):
            a[k] = mv(a[k])
        a["schedule"] = [[mv(r[0]), *r[1:]] for r in a["schedule"]]
        for h in a.get("history", []):
            h["time"] = mv(h["time"])
        if a.get("mark"):
            a["mark"]["time"], a["mark"]["next"] = mv(a["mark"]["time"]), mv(a["mark"]["next"])
    for p in doc.get("tranches", {}).get("pools", []):
        p["createdAt"], p["lastAccrual"] = mv(p["createdAt"]), mv(p["lastAccrual"])
    for o in doc.get("market", {}).get("orders", []):
        o["createdAt"], o["expiry"] = mv(o["createdAt"]), mv(o["expiry"])
    for _, _, t in doc.get("market", {}).get("trades", []):
        t["time"] = mv(t["time"])
    _shift_records(doc, shift)
    return doc


def _shift_records(doc: dict, shift: int) -> None:
    """Move the times inside the typed module records: the stable CR record, proposals
    (their due-time entries follow from them), unbondings and redemptions."""
    def mv(v):
        return str(int(v) + shift) if v not in (None, 0, "0") else v

    cr = doc.get("stable", {}).get("state", {}).get("cr")
    if cr:
        cr["time"] = mv(cr["time"])
    for p in doc.get("governance", {}).get("proposals", []):
        for k in ("start", "end", "executeAt"):
            p[k] = mv(p[k])
    for e in doc.get("insurance", {}).get("unbonding", []) + doc.get("reserve", {}).get("redemptions", []):
        e["release"] = mv(e["release"])


def demo_market(doc: dict) -> dict:
    """doc with a pool of DEMO_POOL_ASSETS (senior and junior tranches), units held by dev
    accounts 7 and 8, and resting orders on both books, as the modules themselves make them:
    the transactions run (fee-free) on a temporary chain whose state is exported back."""
    import io

    from rwachain.genesis.loader import export_genesis
    from rwachain.genesis.localchain import LocalChain
    from rwachain.modules.assets import keeper as assets
    from rwachain.modules.market import keeper as market
    from rwachain.modules.tranches import keeper as tranches

    keys = dev_keys()
    t = doc["genesisTime"]
    free = json.loads(json.dumps(doc))
    free["params"]["chain"]["feePrice"] = 0
    with LocalChain(free, proposer=validator_key().address) as chain:
        app = chain.app

        def tx(i: int, module: str, call: str, args: dict) -> bytes:
            return chain.tx(keys[i], module, call, args)

        def block(txs: list[bytes]) -> None:
            res = chain.produce(txs, t)
            bad = [r.message for r in res.receipts if r.code]
            if bad:
                raise RuntimeError(f"devnet demo market: {bad[0]}")

        par = sum(int(a["principal"]) for a in doc["assets"]["assets"] if a["id"] in DEMO_POOL_ASSETS)
        senior = par * DEMO_SENIOR_SHARE // 100 // DEMO_UNIT * DEMO_UNIT
        block([tx(1, "tranches", "createPool", {"assets": DEMO_POOL_ASSETS, "unitSize": DEMO_UNIT,
                                                "tranches": [[senior, 5 * WAD // 100], [par - senior, 0]]})])
        pool = tranches.get(app.reader(), 1)
        s_den, j_den = (x.denom for x in pool.tranches)
        block([tx(1, "bank", "transfer", {"to": keys[7].address, "denom": s_den, "amount": 600}),
               tx(1, "bank", "transfer", {"to": keys[8].address, "denom": s_den, "amount": 400}),
               tx(1, "bank", "transfer", {"to": keys[8].address, "denom": j_den, "amount": 100})])
        # a scheduled repayment makes the senior units eligible (instant exit, reserve bids)
        first = assets.schedule_of(app.reader(), DEMO_POOL_ASSETS[0])[0]
        block([tx(3, "assets", "repay", {"id": DEMO_POOL_ASSETS[0], "amount": first[1] + first[2]})])
        ctx = app.reader()
        sp, jp = market.reference_price(ctx, s_den), market.reference_price(ctx, j_den)
        orders = [(7, s_den, "sell", sp + sp * 2 // 100, 50), (7, s_den, "sell", sp + sp * 4 // 100, 80),
                  (8, s_den, "buy", sp - sp * 2 // 100, 40), (8, s_den, "buy", sp - sp * 5 // 100, 60),
                  (8, j_den, "sell", jp + jp * 3 // 100, 20), (7, j_den, "buy", jp - jp * 6 // 100, 25)]
        block([tx(i, "market", "place", {"denom": den, "side": side, "price": price, "quantity": q, "expiry": 0})
               for i, den, side, price, q in orders])
        # the liquidity story: dev 8 exits some senior units into the stable token (the vault
        # now holds units); stakers fund the insurance fund; a staker's proposal is open for votes
        block([tx(8, "stable", "exit", {"unit": s_den, "quantity": DEMO_EXIT_UNITS, "minOut": 0})])
        block([tx(i, "insurance", "stake", {"amount": DEMO_STAKE}) for i in DEMO_STAKERS])
        block([tx(DEMO_STAKERS[-1], "governance", "proposeChange",
                  {"action": "setParams", "target": "reserve", "value": DEMO_PROPOSAL})])
        out = io.StringIO()
        export_genesis(app, out)
    built = json.loads(out.getvalue())
    built["initialHeight"] = doc["initialHeight"]
    built["params"]["chain"]["feePrice"] = doc["params"]["chain"]["feePrice"]
    for a in built["accounts"]:
        a.pop("nonce", None)  # the demo transactions leave no trace in the dev accounts' nonces
    built.pop("reserve", None)  # the epoch budget is set again by the first block
    return built


def base(genesis_time: int = GENESIS_TIME) -> dict:
    """The devnet genesis before the demo market: accounts, roles, oracle, demo assets."""
    keys = dev_keys()
    roles: dict[str, list[str]] = {}
    for i, role in ROLE_OF.items():
        roles.setdefault(role, []).append(keys[i].address_text)
    roles["operator"] = [keys[OPERATOR_ACCOUNT0 + j].address_text for j in range(OPERATORS)]
    accounts = [{"address": k.address_text, "balances": {"rusd": str(STABLE_EACH), "rwa": str(NATIVE_EACH)}}
                for k in keys]
    # the reserve starts funded: its epoch budget backs standing bids from the first block
    accounts.append({"address": encode_address(module_address("reserve")), "balances": {"rusd": str(RESERVE_FUND)}})
    accounts.append({"address": encode_address(module_address("treasury")), "balances": {"rwa": str(TREASURY_FUND)}})
    accounts.sort(key=lambda a: a["address"])
    return {
        "chainId": CHAIN_ID,
        "genesisTime": genesis_time,
        "initialHeight": 1,
        "appVersion": 1,
        "stateSchemaVersion": 1,
        "validator": {"pubkey": "0x" + validator_key().pubkey.hex()},
        "nativeDenom": "rwa",
        "denoms": [
            {"id": "rwa", "symbol": "RWA", "decimals": 6, "kind": "native"},
            {"id": "rusd", "symbol": "RUSD", "decimals": 6, "kind": "stable"},
        ],
        "params": {"chain": {"nonceWindow": 64, "maxTxBytes": 16384, "maxBlockTxs": 20000,
                             "feePerByte": 10, "feePrice": 1}},
        "roles": roles,
        "stable": {"denom": "rusd", "proofOfReserve": str(2 * DEV_ACCOUNTS * STABLE_EACH)},
        "oracle": _oracle(keys, genesis_time),
        "assets": _assets(keys, genesis_time),
        "accounts": accounts,
    }


def write(path: str = PATH, genesis_time: int = GENESIS_TIME) -> None:
    """Write build(genesis_time) (or, for another time than GENESIS_TIME, its fast twin at())."""
    doc = build(genesis_time) if path == PATH else at(genesis_time)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write()
