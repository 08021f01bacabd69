"""rwachain as an ABCI 2.0 application of CometBFT: the wire codec (codec.py, types.py)
and the socket server (server.py). docs/abci.md describes what exists."""
