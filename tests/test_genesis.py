"""Genesis: validation messages name the field; streamed import; deterministic roots."""

from __future__ import annotations

import copy
import json
import os

import pytest

from rwachain.genesis import devnet
from rwachain.genesis.loader import GenesisError, GenesisFile, import_genesis
from rwachain.modules.bank import keeper
from rwachain.modules.core.app import App
from rwachain.modules.core.crypto import Keypair
from rwachain.modules.stable import module as stable
from rwachain.modules.stable import vault
from rwachain.node.chain import Chain
from rwachain.state.store import Store


def write(tmp_path, doc, name="g.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def test_embedded_devnet_genesis_matches_its_builder():
    with open(devnet.PATH) as f:
        assert json.load(f) == devnet.build()


def test_genesis_root_is_deterministic(tmp_path):
    roots = set()
    for i in range(2):
        store = Store(str(tmp_path / f"s{i}"))
        roots.add(import_genesis(App(store), devnet.PATH))
        store.close()
    assert len(roots) == 1


def test_genesis_seeds_balances_roles_and_custodian_mint(devnet_chain, dev_keys):
    ctx = devnet_chain.app.reader()
    assert keeper.balance(ctx, dev_keys[3].address, "rwa") == devnet.NATIVE_EACH
    info = stable.info(ctx)
    # custodian-minted: the genesis balances; the rest was minted against units (the demo exit)
    assert info.custodianMinted == devnet.DEV_ACCOUNTS * devnet.STABLE_EACH + devnet.RESERVE_FUND
    assert info.custodianMinted <= info.attestedReserve
    assert keeper.supply(ctx, "rusd") == info.custodianMinted + ctx.get_int(vault.UNITS) > info.custodianMinted
    from rwachain.modules.roles import module as roles

    assert roles.has_role(ctx, "verifier", dev_keys[2].address)
    assert not roles.has_role(ctx, "verifier", dev_keys[3].address)


BAD = [
    (lambda d: d.pop("chainId"), "chainId"),
    (lambda d: d.update(initialHeight=0), "initialHeight"),
    (lambda d: d.update(genesisTime="soon"), "genesisTime"),
    (lambda d: d["validator"].update(pubkey="0x1234"), "validator.pubkey"),
    (lambda d: d.update(nativeDenom="rusd"), "nativeDenom"),
    (lambda d: d["denoms"].insert(2, dict(d["denoms"][0])), "denoms[2].id"),
    (lambda d: d["denoms"][1].update(kind="gold"), "denoms[1].kind"),
    (lambda d: d["params"]["chain"].update(nonceWindow=0), "params.chain.nonceWindow"),
    (lambda d: d["params"]["chain"].update(bogus=1), "params.chain.bogus"),
    (lambda d: d["roles"].update(king=[]), "roles.king"),
    (lambda d: d["roles"]["verifier"].append("rwa1notanaddress"), "roles.verifier[1]"),
    (lambda d: d["accounts"][3].update(address=d["accounts"][3]["address"][:-1] + "q"), "accounts[3].address"),
    (lambda d: d["accounts"][4]["balances"].update(rwa="-1"), "accounts[4].balances.rwa"),
    (lambda d: d["accounts"][4]["balances"].update(rwa=1.5), "accounts[4].balances.rwa"),
    (lambda d: d["accounts"][5]["balances"].update(gold="1"), "accounts[5].balances.gold"),
    (lambda d: d["accounts"].insert(10, dict(d["accounts"][0])), "accounts[10].address"),
    (lambda d: d["stable"].update(proofOfReserve="5"), "stable.proofOfReserve"),
    (lambda d: d.update(surprise=True), "surprise"),
    (lambda d: d["oracle"]["operators"][2].update(blsPubkey="0x12"), "oracle.operators[2].blsPubkey"),
    (lambda d: d["oracle"]["policies"]["rate"].update(quorum=5), "oracle.policies.rate.quorum"),
    (lambda d: d["oracle"]["policies"]["grade"].update(hi=7), "oracle.policies.grade.lo/hi"),
    (lambda d: d["oracle"]["policies"].pop("lgd"), "oracle.policies.lgd"),
    (lambda d: d["oracle"]["feeds"][0].update(id="rate/x"), "oracle.feeds[0].id"),
    (lambda d: d["oracle"]["feeds"][0].update(value=str(10**18)), "oracle.feeds[0].value"),
    (lambda d: d["assets"]["assets"][0].update(originator=d["roles"]["verifier"][0]), "assets.assets[0].originator"),
    (lambda d: d["assets"]["assets"][1]["schedule"][0].__setitem__(1, "1"), "assets.assets[1].schedule"),
    (lambda d: d["assets"]["assets"][2].update(grade="F"), "assets.assets[2].grade"),
    (lambda d: d["assets"]["assets"][2].update(kind="gold"), "assets.assets[2].kind"),
    (lambda d: d.pop("stable"), "assets"),
]


@pytest.mark.slow
@pytest.mark.parametrize("mutate, field", BAD, ids=[f for _, f in BAD])
def test_invalid_genesis_names_the_field(tmp_path, mutate, field):
    doc = copy.deepcopy(devnet.build())
    mutate(doc)
    with pytest.raises(GenesisError) as info:
        GenesisFile(write(tmp_path, doc))
    assert str(info.value).startswith(field), str(info.value)


def test_invalid_json_is_a_genesis_error(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text('{"chainId": "x", "accounts": [')
    with pytest.raises(GenesisError, match="JSON"):
        GenesisFile(str(p))


def test_refused_genesis_leaves_the_store_empty(tmp_path):
    doc = devnet.build()
    doc["accounts"][2]["balances"]["rwa"] = "x"
    store = Store(str(tmp_path / "s"))
    with pytest.raises(GenesisError):
        import_genesis(App(store), write(tmp_path, doc))
    assert store.version is None and store.is_blank()


def test_streamed_import_in_many_chunks_gives_the_same_root(tmp_path):
    """Chunked import (as for a million accounts) equals a one-chunk import."""
    doc = devnet.build()
    extra = sorted(Keypair.dev(1000 + i).address_text for i in range(250))
    doc["accounts"] += [{"address": a, "balances": {"rwa": str(i + 1)}} for i, a in enumerate(extra)]
    path = write(tmp_path, doc)
    g = GenesisFile(path)
    assert g.count == len(devnet.build()["accounts"]) + 250
    roots = []
    for size in (7, 10_000):
        store = Store(str(tmp_path / f"c{size}"))
        app = App(store)
        roots.append(app.init_chain(g.meta, g.sections(), g.account_chunks(size)))
        store.close()
    assert roots[0] == roots[1]


def test_interrupted_import_is_wiped_on_reopen(tmp_path):
    """A crash inside a chunked import leaves no version; reopening starts clean."""
    g = GenesisFile(devnet.PATH)
    path = str(tmp_path / "chain")
    chain = Chain(path, devnet.validator_key())

    def dying_chunks():
        yield from g.account_chunks(3)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        chain.app.init_chain(g.meta, g.sections(), dying_chunks())
    chain.close()
    chain = Chain(path, devnet.validator_key())
    assert chain.height is None and chain.store.is_blank()
    chain.init_genesis(devnet.PATH)
    assert chain.height == 0
    chain.close()


def test_a_large_genesis_settles_the_database_and_the_chain_goes_on(tmp_path, monkeypatch):
    """After a genesis over the settle threshold (lowered here to every genesis) the chain
    has the same root as without it, produces blocks, and reopens from disk."""
    import rwachain.node.chain as chain_mod
    from rwachain.modules.core.tx import sign_tx

    plain = Chain(str(tmp_path / "plain"), devnet.validator_key())
    root_plain = plain.init_genesis(devnet.PATH)
    plain.close()

    monkeypatch.setattr(chain_mod, "SETTLE_AFTER_GENESIS_BYTES", 0)
    path = str(tmp_path / "big")
    chain = Chain(path, devnet.validator_key())
    db_before = chain.store.db
    assert chain.init_genesis(devnet.PATH) == root_plain
    assert chain.store.db is not db_before and chain.blocks.db is chain.store.db
    k0, k1 = devnet.dev_keys()[0], devnet.dev_keys()[1]
    raw = sign_tx(k0, chain=devnet.CHAIN_ID, nonce=0, fee=10**6, module="bank", call="transfer",
                  args={"to": k1.address, "denom": "rwa", "amount": 5})
    block, result = chain.produce([raw], devnet.GENESIS_TIME + 1)
    assert result.receipts[0].code == 0
    root = chain.store.root_hash
    chain.close()
    again = Chain(path, devnet.validator_key())
    assert again.height == 1 and again.store.root_hash == root
    assert again.blocks.block(1).header.hash == block.header.hash
    again.close()


def test_flaw_an_integer_of_thousands_of_digits_is_refused_naming_its_field(tmp_path):
    """A balance past Python's int-conversion limit once escaped as a bare ValueError that
    named no field."""
    doc = json.loads(json.dumps(devnet.build()))
    doc["accounts"][4]["balances"]["rwa"] = "9" * 5000
    store = Store(str(tmp_path / "s"))
    try:
        with pytest.raises(GenesisError, match=r"^accounts\[4\]\.balances\.rwa: "):
            import_genesis(App(store), write(tmp_path, doc))
    finally:
        store.close()


@pytest.mark.parametrize("old, new, field", [
    ('"rusd": "1000000000000"', '"rusd": ' + "9" * 5000, ".balances.rusd: "),
    ('"params": {', '"params": {"insurance": {"unbonding": ' + "9" * 5000 + ', "feeShare": "0.2"}, ',
     "params.insurance.unbonding: "),
    (f'"genesisTime": {devnet.GENESIS_TIME}', '"genesisTime": ' + "9" * 5000, "genesisTime: ")])
def test_flaw_a_json_number_of_thousands_of_digits_crashed_the_process(tmp_path, old, new, field):
    """The streaming JSON parser turned a number past Python's int-conversion limit into a
    segmentation fault of the whole process; it is refused naming the field."""
    import subprocess
    import sys

    text = json.dumps(devnet.build())
    assert old in text
    text = text.replace(old, new, 1)
    path = tmp_path / "g.json"
    path.write_text(text)
    code = ("import sys\nfrom rwachain.genesis.loader import GenesisError, import_genesis\nfrom rwachain.modules.core.app import App\n"
            "from rwachain.state.store import Store\ns = Store(sys.argv[2])\n"
            "try:\n    import_genesis(App(s), sys.argv[1])\nexcept GenesisError as e:\n    print(e)\n"
            "finally:\n    s.close()\n")
    r = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "s")], capture_output=True,
                       text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert r.returncode == 0, r.stderr
    assert field in r.stdout and len(r.stdout) < 200, r.stdout
