"""Typed genesis sections: a module's state records declared once, imported and exported
through the declaration, never as raw keys.

A Record is one kind of state key: prefix || key fields, with a value of a declared shape.
Key fields (fixed width, so a key decodes without ambiguity):
    "addr"   20 bytes (an account)
    "u64"    8 bytes big-endian (an id or a time, s)
    "str"    UTF-8 text, the rest of the key (last field only)
    "bytes"  raw bytes, the rest of the key (last field only)
Value shapes (the same words in modules/core/typed.py, which checks the JSON form with
field-named errors):
    "int"            a non-negative integer below 2^256 (a scalar record: stored as an int)
    "addr"           20 bytes;  "bytes": any bytes;  "str": text;  "bool": true or false
    "true"           presence only (stored as msgpack true)
    ("enum", names)  one of the names
    ("opt", shape)   None or the shape
    ("map", shape)   {text: shape}
    ("list", shape)  [shape, ...]
    {field: shape}   an object with exactly these fields
A section is {record name: [entries]} (one entry per key: the key fields and the value's
fields, or the scalar value under the record's `field`), or {record name: entry} for a
record without key fields (a single key). The module's whole key space (`owned`) must be
covered: export refuses a key that no record declares, so a new kind of state cannot be
dropped silently from an export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rwachain.modules.core.context import Ctx

KEY_WIDTH = {"addr": 20, "u64": 8}


@dataclass(frozen=True, slots=True)
class Record:
    """One kind of state record of a typed genesis section (see the module docstring)."""

    name: str
    prefix: bytes
    key: tuple[tuple[str, str], ...] = ()
    value: Any = "int"
    field: str = "value"
    """The entry's field that holds a scalar value (a non-object shape)."""

    @property
    def single(self) -> bool:
        return not self.key

    def key_of(self, entry: dict) -> bytes:
        out = self.prefix
        for name, kind in self.key:
            v = entry[name]
            out += v.to_bytes(8, "big") if kind == "u64" else v.encode() if kind == "str" else v
        return out

    def parse_key(self, key: bytes) -> dict | None:
        """The key fields of a state key of this record, or None if it is not one."""
        if not key.startswith(self.prefix):
            return None
        rest = key[len(self.prefix):]
        if self.single:
            return {} if not rest else None
        out: dict = {}
        for name, kind in self.key:
            if kind in KEY_WIDTH:
                w = KEY_WIDTH[kind]
                if len(rest) < w:
                    return None
                part, rest = rest[:w], rest[w:]
                out[name] = int.from_bytes(part, "big") if kind == "u64" else part
            else:
                try:
                    out[name] = rest.decode() if kind == "str" else rest
                except UnicodeDecodeError:
                    return None
                rest = b""
        return out if not rest else None

    def value_of(self, entry: Any) -> Any:
        if isinstance(self.value, dict):
            return {f: entry[f] for f in self.value}
        return entry if self.single else entry[self.field]

    def entry(self, fields: dict, value: Any) -> Any:
        if isinstance(self.value, dict):
            return {**fields, **value}
        return value if self.single else {**fields, self.field: value}


def write(ctx: Ctx, rec: Record, entry: Any) -> None:
    """Store one typed entry (already checked) as its state key."""
    key = rec.key_of(entry if not rec.single else {})
    v = rec.value_of(entry)
    if rec.value == "int":
        ctx.set_int(key, v)
    else:
        ctx.set_obj(key, True if rec.value == "true" else v)


def _check_stored(module: str, rec: Record, key: bytes, v: Any) -> None:
    """A stored object has exactly the declared fields (else a newer record kind that the
    declaration does not know: export refuses rather than drop a field)."""
    if isinstance(rec.value, dict) and (type(v) is not dict or set(v) != set(rec.value)):
        got = sorted(v) if type(v) is dict else type(v).__name__
        raise RuntimeError(f"{module} genesis: record {rec.name} at {key!r} has fields {got}, "
                           f"the declaration {sorted(rec.value)}")


def typed_genesis(module: str, records: tuple[Record, ...], owned: tuple[bytes, ...], *,
                  derive: Callable[[Ctx, dict], None] | None = None, skip: tuple[bytes, ...] = ()
                  ) -> tuple[Callable[[Ctx, dict], None], Callable[[Ctx], dict]]:
    """(init_genesis, export_genesis) of a module whose genesis section is typed by records.
    owned: the prefixes of the module's state that the records must cover (but the keys in
    skip, which the section holds otherwise); derive(ctx, section), if given, rebuilds what
    follows from the records (due-time entries)."""
    by_len = sorted(records, key=lambda r: -len(r.prefix))

    def init_genesis(ctx: Ctx, section: dict) -> None:
        for rec in records:
            if rec.name not in section:
                continue
            for entry in ([section[rec.name]] if rec.single else section[rec.name]):
                write(ctx, rec, entry)
        if derive is not None:
            derive(ctx, section)

    def export_genesis(ctx: Ctx) -> dict:
        out: dict = {}
        for p in owned:
            for k, _ in ctx.iter_prefix(p):
                if k in skip:
                    continue
                rec, fields = next(((r, f) for r in by_len if (f := r.parse_key(k)) is not None), (None, None))
                if rec is None:
                    raise RuntimeError(f"{module} genesis: state key {k!r} has no typed record")
                v = ctx.get_int(k) if rec.value == "int" else ctx.get_obj(k)
                _check_stored(module, rec, k, v)
                e = rec.entry(fields, v)
                if rec.single:
                    out[rec.name] = e
                else:
                    out.setdefault(rec.name, []).append(e)
        return out

    return init_genesis, export_genesis
