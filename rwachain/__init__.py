"""rwachain: a native Python appchain that gives tokenized real-world assets liquidity.

The installed package holds the project's five layers, each a folder of the repository
(the build maps them here, see setup.py): ``rwachain.state`` (storage, tree, proofs),
``rwachain.modules`` (the state machine), ``rwachain.genesis`` (genesis, scenarios,
simulation), ``rwachain.node`` (the chain, admission, block production) and
``rwachain.rpc`` (JSON-RPC server, client, CLI). Imports run in that order and never back.
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("rwachain")
except _metadata.PackageNotFoundError:  # imported from a source tree that is not installed
    __version__ = "0+unknown"
