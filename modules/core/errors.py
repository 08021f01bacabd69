"""The one exception tree of the state machine. Codes are stable: never renumber.

Admission errors (1-49) keep a transaction out of a block and change nothing. Execution
errors (50+) are raised while a transaction runs: its writes roll back, it still pays
its fee, and its receipt carries the code and message. The RPC layer maps every code
once (docs/protocol.md, "Error codes").
"""

from __future__ import annotations


class InvalidTransaction(Exception):
    """Base: a transaction refused with a stable numeric code and a clear message."""

    code = 1
    name = "invalid_transaction"

    def __init__(self, message: str = ""):
        super().__init__(message or self.name)
        self.message = message or self.name


# ----- admission: the envelope and its checks --------------------------------------
class Malformed(InvalidTransaction):
    code, name = 2, "malformed"


class NonCanonicalEncoding(InvalidTransaction):
    code, name = 3, "non_canonical_encoding"


class Oversize(InvalidTransaction):
    code, name = 4, "oversize"


class WrongChainId(InvalidTransaction):
    code, name = 5, "wrong_chain_id"


class BadSignature(InvalidTransaction):
    code, name = 6, "bad_signature"


class UnknownModule(InvalidTransaction):
    code, name = 7, "unknown_module"


class UnknownCall(InvalidTransaction):
    code, name = 8, "unknown_call"


class BadArguments(InvalidTransaction):
    code, name = 9, "bad_arguments"


class ReplayedNonce(InvalidTransaction):
    code, name = 10, "replayed_nonce"


class NonceGap(InvalidTransaction):
    code, name = 11, "nonce_gap"


class FeeTooLow(InvalidTransaction):
    code, name = 12, "fee_too_low"


class Expired(InvalidTransaction):
    code, name = 13, "expired"


class CannotPayFee(InvalidTransaction):
    code, name = 14, "cannot_pay_fee"


# ----- execution: raised inside a handler; the fee is still paid --------------------
class ExecutionError(InvalidTransaction):
    code, name = 50, "execution_failed"


class InsufficientFunds(ExecutionError):
    code, name = 51, "insufficient_funds"


class Unauthorized(ExecutionError):
    code, name = 52, "unauthorized"


class ModuleAccountRefuses(ExecutionError):
    code, name = 53, "module_account_refuses"


class UnknownDenom(ExecutionError):
    code, name = 54, "unknown_denom"


class NotFound(ExecutionError):
    code, name = 55, "not_found"


class InvalidState(ExecutionError):
    code, name = 56, "invalid_state"


class LimitExceeded(ExecutionError):
    code, name = 57, "limit_exceeded"


# ----- oracle and asset rules (execution errors; some are also refused at admission) ----
class StaleFeed(ExecutionError):
    code, name = 58, "stale_feed"


class FeedFrozen(ExecutionError):
    code, name = 59, "feed_frozen"


class WrongEpoch(ExecutionError):
    code, name = 60, "wrong_epoch"


class BadReportSignature(ExecutionError):
    code, name = 61, "bad_report_signature"


class QuorumNotMet(ExecutionError):
    code, name = 62, "quorum_not_met"


class RoundNotNewer(ExecutionError):
    code, name = 63, "round_not_newer"


class FutureObservation(ExecutionError):
    code, name = 64, "future_observation"


class ReportTooOld(ExecutionError):
    code, name = 65, "report_too_old"


class GradeJump(ExecutionError):
    code, name = 66, "grade_jump"


class BadSchedule(ExecutionError):
    code, name = 67, "bad_schedule"


class Paused(ExecutionError):
    code, name = 68, "paused"


class HandlerFault(ExecutionError):
    """A handler raised an exception that is not an ExecutionError (a defect of the call,
    not of the transaction): the transaction fails like any other, with this code and a
    message naming the call and the exception class."""

    code, name = 69, "handler_fault"


def all_error_classes() -> list[type[InvalidTransaction]]:
    """Every error class, ordered by code (for docs and the RPC error table)."""
    seen: list[type[InvalidTransaction]] = []
    stack: list[type[InvalidTransaction]] = [InvalidTransaction]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.code)
