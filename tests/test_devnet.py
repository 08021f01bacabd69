"""The embedded devnet genesis: the pinned file is what the builder makes, and the fast
time-shifted copy `rwad devnet` uses is exactly the genesis the builder makes for that time."""

from __future__ import annotations

import json

from rwachain.genesis import devnet


def test_the_pinned_file_is_the_builders_output():
    with open(devnet.PATH) as f:
        assert json.load(f) == json.loads(json.dumps(devnet.build()))


def test_the_shifted_genesis_equals_a_fresh_build():
    for t in (devnet.GENESIS_TIME + 1, devnet.GENESIS_TIME + 123_456_789, devnet.GENESIS_TIME + 86_400 * 300 + 1799):
        assert devnet.at(t) == json.loads(json.dumps(devnet.build(t))), t
