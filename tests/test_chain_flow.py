"""End to end in process: genesis, signed transfers in blocks, receipts, restart, export."""

from __future__ import annotations

from rwachain.genesis import devnet
from rwachain.genesis.loader import export_genesis
from rwachain.modules.bank import keeper
from rwachain.modules.insurance import module as insurance
from rwachain.node.chain import Chain
from tests.mech import broken_invariants, devnet_chain_at, transfer

CHAIN = devnet.CHAIN_ID
T0 = devnet.GENESIS_TIME


def test_transfers_move_funds_and_pay_fees(devnet_chain, dev_keys):
    a, b = dev_keys[0], dev_keys[1]
    before = keeper.balance(devnet_chain.app.reader(), b.address, "rwa")
    txs = [transfer(a, n, b.address, 7) for n in range(3)]
    block, result = devnet_chain.produce(txs, time=T0 + 1)
    assert [r.code for r in result.receipts] == [0, 0, 0]
    ctx = devnet_chain.app.reader()
    assert keeper.balance(ctx, b.address, "rwa") == before + 21
    fees = sum(r.fee for r in result.receipts)
    share = fees * insurance.params(ctx)["feeShare"] // 10**18  # the stakers' share goes to the fund
    assert keeper.balance(ctx, devnet_chain.app.reserve, "rwa") == fees - share and share > 0
    assert block.header.state_root == devnet_chain.store.root_hash
    assert block.verify_signature(devnet.validator_key().pubkey)
    assert broken_invariants(devnet_chain) == []


def test_failed_execution_pays_fee_and_rolls_back(devnet_chain, dev_keys):
    a, b = dev_keys[0], dev_keys[1]
    ctx = devnet_chain.app.reader()
    start = keeper.balance(ctx, a.address, "rwa")
    _, result = devnet_chain.produce([transfer(a, 0, b.address, 2**100)], time=T0 + 1)
    r = result.receipts[0]
    assert (r.code, r.error) == (51, "insufficient_funds")
    ctx = devnet_chain.app.reader()
    assert keeper.balance(ctx, a.address, "rwa") == start - r.fee
    assert broken_invariants(devnet_chain) == []


def test_module_account_refuses_plain_transfer(devnet_chain, dev_keys):
    _, result = devnet_chain.produce([transfer(dev_keys[0], 0, devnet_chain.app.reserve, 1)], time=T0 + 1)
    assert result.receipts[0].error == "module_account_refuses"


def test_restart_resumes_at_same_height_and_root(tmp_path, dev_keys):
    path = str(tmp_path / "c")
    chain = devnet_chain_at(path)
    for n in range(3):
        chain.produce([transfer(dev_keys[0], n, dev_keys[1].address, 1)], time=T0 + n)
    height, root = chain.height, chain.store.root_hash
    chain.close()
    again = Chain(path, devnet.validator_key())
    assert (again.height, again.store.root_hash) == (height, root)
    assert again.blocks.block(height).header.state_root == root
    _, result = again.produce([transfer(dev_keys[0], 3, dev_keys[1].address, 1)], time=T0 + 9)
    assert result.receipts[0].code == 0
    again.close()


def test_export_imports_back_to_same_root(devnet_chain, dev_keys, tmp_path):
    devnet_chain.produce([transfer(dev_keys[0], n, dev_keys[2].address, 5) for n in range(4)], time=T0 + 3)
    out = tmp_path / "exported.json"
    with open(out, "w") as f:
        export_genesis(devnet_chain.app, f)
    other = Chain(str(tmp_path / "other"), devnet.validator_key())
    assert other.init_genesis(str(out)) == devnet_chain.store.root_hash
    other.close()
