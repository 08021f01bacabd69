"""Skip a block hook whose last run changed nothing while nothing it read has changed.

Off by default: only the hooks of a module that declares them pure (Module.pure_hooks) are
ever skipped; every other hook runs at every turn. Pure means a deterministic function of
the state values it reads through its context and of the block fields it reads (height,
time, proposer): nothing kept in memory between turns, nothing read around the context.
tests/test_hookmemo.py holds every module that declares it to that (each declared hook
run twice on the same state, and once on a state holding only what it read, writes and
emits the same; a chain commits the same roots with and without skipping).

A pure hook runs on an overlay of its own over a view that logs those reads: each key
with the value seen, each prefix listing with the pairs it yielded (and whether the hook
read it to its end), each block field with its value. When a run writes nothing that
differs from the state it started from and emits no event, its log is kept, with the keys
it wrote and their values. At the hook's next turn, if every logged key still holds the
same value, every logged listing still yields the same pairs, and every logged block field
is equal, the hook would read what it read before and write what is already there, so it
would again change nothing: it is skipped. Any difference (a value, a listing, the time)
runs the hook as usual.

The check compares values, so it holds whatever changed the state in between (blocks,
reverts, loads, an abandoned block): nothing has to report its writes here. Under automine
a stream of small blocks in the same second skips the collateral-ratio record and the
reserve's order refresh (docs/operations.md, "Hooks that would change nothing").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rwachain.modules.core.context import BlockInfo, Ctx
from rwachain.state.overlay import Overlay
from rwachain.state.store import NODE_FAULTS

_END = object()


class ReadLog:
    """A read-through view of `parent` that logs what is read through it."""

    __slots__ = ("parent", "keys", "listings")

    def __init__(self, parent):
        self.parent = parent
        self.keys: dict[bytes, bytes | None] = {}
        self.listings: list[list] = []  # [prefix, pairs yielded, read to the end]

    def get(self, key: bytes) -> bytes | None:
        value = self.parent.get(key)
        self.keys[key] = value
        return value

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        seen: list[tuple[bytes, bytes]] = []
        entry = [prefix, seen, False]
        self.listings.append(entry)
        for pair in self.parent.iter_prefix(prefix):
            seen.append(pair)
            yield pair
        entry[2] = True

    def holds_in(self, state) -> bool:
        """True if state answers every logged read as it was answered then."""
        get = state.get
        for key, value in self.keys.items():
            if get(key) != value:
                return False
        for prefix, seen, ended in self.listings:
            it = state.iter_prefix(prefix)
            for pair in seen:
                if next(it, _END) != pair:
                    return False
            if ended and next(it, _END) is not _END:
                return False
        return True


class BlockLog:
    """The block fields as a hook sees them, logging which ones it read."""

    __slots__ = ("_info", "used")

    def __init__(self, info: BlockInfo):
        self._info = info
        self.used: dict[str, int | bytes] = {}

    @property
    def height(self) -> int:
        self.used["height"] = v = self._info.height
        return v

    @property
    def time(self) -> int:
        self.used["time"] = v = self._info.time
        return v

    @property
    def proposer(self) -> bytes:
        self.used["proposer"] = v = self._info.proposer
        return v

    def holds_for(self, info: BlockInfo) -> bool:
        return all(getattr(info, name) == v for name, v in self.used.items())


class HookMemo:
    """Runs block hooks, skipping pure ones whose last run was idle and whose reads still hold.

    In memory only (a restart starts with nothing to skip). skipped and ran count hook
    turns since the process started; faults counts the turns that raised.

    A hook that raises (anything but a node fault, state/store/keys.py NODE_FAULTS) is contained:
    its writes and events of this turn are dropped, the block gets the event
    hook.fault {hook, error: the exception class name} and on_fault(hook, exception) is
    called (the node logs it). Whether a hook raises depends on state and block fields only,
    so every node drops and emits the same.
    """

    def __init__(self, on_fault: Callable[[str, Exception], None] | None = None):
        self._idle: dict[str, tuple[ReadLog, BlockLog]] = {}
        self.skipped = 0
        self.ran = 0
        self.faults = 0
        self.on_fault = on_fault

    def run(self, name: str, hook: Callable[[Ctx], None], ctx: Ctx, pure: bool = False) -> None:
        """Run hook (name: unique per hook) on ctx's state and events; a pure hook (its
        module says so) is skipped as above, and logs its reads when it runs."""
        state, info = ctx.state, ctx.block
        if pure:
            idle = self._idle.get(name)
            if idle is not None and idle[1].holds_for(info) and idle[0].holds_in(state):
                self.skipped += 1
                return
            reads, block = ReadLog(state), BlockLog(info)
        else:
            reads, block = None, info
        self.ran += 1
        own = Ctx(Overlay(state if reads is None else reads), block)
        try:
            hook(own)
        except NODE_FAULTS:
            raise
        except Exception as exc:
            self._fault(name, exc, ctx)
            return
        writes = own.state.writes
        get = state.get
        if reads is None or own.events or any(get(k) != v for k, v in writes.items()):
            self._idle.pop(name, None)
            own.state.merge_into(state)
            ctx.events.extend(own.events)
        else:
            # The same reads would make the same writes, which change nothing only while the
            # written keys still hold these values: they are checked like the reads.
            reads.keys.update(writes)
            self._idle[name] = (reads, block)

    def _fault(self, name: str, exc: Exception, ctx: Ctx) -> None:
        self.faults += 1
        self._idle.pop(name, None)
        ctx.emit("hook.fault", hook=name, error=type(exc).__name__)
        if self.on_fault is not None:
            self.on_fault(name, exc)
