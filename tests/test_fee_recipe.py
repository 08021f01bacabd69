"""The fee recipe of docs/protocol.md, followed literally: sign with a provisional fee (1),
ask tx_estimateFee, sign again with its minFee; that transaction is admitted, and one base
unit less is refused. The fee's own msgpack length depends on its value, so the estimate
answers the fee of the final encoding (a fixed point), whatever the provisional fee."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwachain.genesis import devnet
from rwachain.modules.core.errors import CannotPayFee, FeeTooLow
from rwachain.modules.core.tx import sign_tx
from tests.mech import devnet_chain_at

KEYS = devnet.dev_keys()


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    c = devnet_chain_at(tmp_path_factory.mktemp("fees") / "chain")
    yield c
    c.close()


def _admitted_or_unaffordable(app, raw: bytes) -> None:
    """Passes the fee rule: admitted, or refused only because the balance cannot pay it."""
    with contextlib.suppress(CannotPayFee):
        app.check_tx(raw)


def _transfer(fee: int, amount: int, nonce: int = 0, expiry: int = 0) -> bytes:
    return sign_tx(KEYS[0], chain=devnet.CHAIN_ID, nonce=nonce, fee=fee, module="bank", call="transfer",
                   args={"to": KEYS[1].address, "denom": "rwa", "amount": amount}, expiry=expiry)


def _recipe(app, provisional: int, **kw) -> tuple[int, bytes]:
    """The doc's recipe: one estimate, one re-signing."""
    est = app.estimate_fee(_transfer(provisional, **kw))
    raw = _transfer(est["minFee"], **kw)
    assert est["size"] == len(raw) and est["minFee"] == est["cost"] * app.params["feePrice"]
    return est["minFee"], raw


def test_flaw_fee_recipe_from_a_provisional_fee_of_one_is_admitted(chain):
    app = chain.app
    fee, raw = _recipe(app, 1, amount=2_500_000)
    app.check_tx(raw)  # admitted as signed
    with pytest.raises(FeeTooLow):
        app.check_tx(_transfer(fee - 1, amount=2_500_000))


@settings(max_examples=40)
@given(price=st.sampled_from([1, 3, 10, 255, 65_537, 10**6, 10**9, 10**13, 10**18]),
       provisional=st.integers(0, (1 << 128) - 1), amount=st.integers(1, (1 << 128) - 1),
       expiry=st.sampled_from([0, 1 << 20, (1 << 64) - 1]))
def test_fee_recipe_converges_in_one_round_at_any_fee_price(chain, price, provisional, amount, expiry):
    app = chain.app
    saved = app.params["feePrice"]
    app.params["feePrice"] = price
    try:
        fee, raw = _recipe(app, provisional, amount=amount, expiry=expiry)
        _admitted_or_unaffordable(app, raw)
        assert _recipe(app, fee, amount=amount, expiry=expiry)[0] == fee  # the answer is a fixed point
        with pytest.raises(FeeTooLow):
            app.check_tx(_transfer(fee - 1, amount=amount, expiry=expiry))
    finally:
        app.params["feePrice"] = saved


def test_the_documented_example_is_what_the_node_answers(chain):
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "protocol.md").read_text()
    m = re.search(r"a `bank.transfer` of (\d+) bytes\s+signed with fee 1 .*?`minFee` is (\d+), not the (\d+)", text, re.S)
    assert m, "the worked example is gone from docs/protocol.md"
    size, fee, provisional_fee = map(int, m.groups())
    raw = _transfer(1, amount=2_500_000)
    assert len(raw) == size and chain.app.params["feePerByte"] * size + 1000 == provisional_fee
    assert chain.app.estimate_fee(raw)["minFee"] == fee
