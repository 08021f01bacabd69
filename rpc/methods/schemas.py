"""JSON schemas of the RPC's results (rpc.discover), built from a few parts.

Conventions (docs/rpc.md): integers that can exceed 2^53 are decimal strings (AMOUNT),
the others JSON integers below 2^53 (INT); bytes are 0x-hex; addresses rwa1... text.
Objects list their properties and which are always present; more may be added later.
The parts are modules/core/queries.py's (a module's queries declare their results with them).
"""

from __future__ import annotations

from rwachain.modules.core.queries import (  # noqa: F401 (the parts: modules' queries build from them too)
    ADDR,
    AMOUNT,
    BOOL,
    HASH32,
    HEXS,
    INT,
    NULL,
    STR,
    Optional,
    anyof,
    anything,
    arr,
    closed,
    enum,
    mapof,
    nullable,
    obj,
    pair,
)

JSON: dict = anything()  # any JSON value

# ----- chain ------------------------------------------------------------------------------------
HEADER = obj(height=INT, parent=HASH32, time=INT, proposer=ADDR, txsRoot=HASH32, receiptsRoot=HASH32,
             stateRoot=HASH32, appVersion=INT, hash=HASH32)
TX = obj(hash=HASH32, sender=ADDR, pubkey=HASH32, nonce=AMOUNT, fee=AMOUNT, expiry=AMOUNT, module=STR, call=STR,
         args=mapof(JSON), size=INT, raw=HEXS)
UNDECODED_TX = closed(obj(hash=HASH32, raw=HEXS))  # bytes that are no transaction (devnet operations)
EVENT = obj(type=STR, attrs=mapof(JSON))
BLOCK = obj(hash=HASH32, header=HEADER, signature=HEXS, txs=arr(anyof(HASH32, TX, UNDECODED_TX)),
            receipts=arr(HEXS), events=arr(EVENT))
STATUS = obj(chainId=STR, height=INT, hash=HASH32, stateRoot=HASH32, time=INT)
CHAIN_PARAMS = obj(chainId=STR, feePerByte=AMOUNT, feePrice=AMOUNT, maxBlockTxs=AMOUNT, maxTxBytes=AMOUNT,
                   nonceWindow=AMOUNT)
RECEIPT = obj(txHash=HASH32, code=INT, error=STR, message=STR, fee=AMOUNT, cost=INT, events=arr(EVENT), raw=HEXS,
              height=Optional(INT), index=Optional(INT))
TX_STATUS = {"status": enum("included", "pending"), "height": Optional(INT), "index": Optional(INT)}
TX_ENTRY = anyof(obj(**TX["properties"], **TX_STATUS), closed(obj(hash=HASH32, raw=HEXS, **TX_STATUS)))
BLOCK_EVENT = obj(height=INT, index=INT, type=STR, attrs=mapof(JSON))
SEARCH_PAGE = obj(receipts=arr(RECEIPT), blockEvents=arr(BLOCK_EVENT), nextCursor=nullable({"type": "string", "pattern": "^[0-9]+:[0-9]+$"}))
FEE_ESTIMATE = obj(cost=INT, minFee=AMOUNT, size=INT)
PROOF = obj(nodes=arr(pair(INT, arr(HASH32))), leaf=nullable(pair(HASH32, HASH32)))
STATE_ENTRY = obj(height=INT, root=HASH32, value=nullable(HEXS), proof=PROOF)
ACCOUNT = obj(address=ADDR, nonce=INT, pendingNonce=INT, balances=mapof(AMOUNT), roles=arr(STR))

# The modules' results are declared with their queries (modules/<name>/queries.py).

OPENRPC_DOCUMENT = {"type": "object", "required": ["openrpc", "info", "methods"], "properties": {
    "openrpc": STR, "info": obj(title=STR, version=STR, description=STR),
    "methods": arr({"type": "object", "required": ["name", "params", "result"], "properties": {
        "name": STR, "summary": STR, "params": arr({"type": "object"}), "result": {"type": "object"}}})}}
