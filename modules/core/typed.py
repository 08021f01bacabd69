"""The JSON form of typed genesis sections (modules/core/records.py): validation with
field-named errors, and export.

JSON conventions as everywhere in a genesis: integers as decimal strings (JSON integers
accepted), bytes as 0x-hex, addresses as rwa1... text. A record with key fields is a list
of entries, each an object of its key fields and value fields (a scalar value under the
record's `field`); a record without key fields is one object (or one scalar).
"""

from __future__ import annotations

from typing import Any

from rwachain.modules.core.crypto import encode_address
from rwachain.modules.core.records import Record
from rwachain.modules.core.sections import GenesisError
from rwachain.modules.core.sections import address_field as _addr
from rwachain.modules.core.sections import hex_field as _hex
from rwachain.modules.core.sections import int_field as _int

INT_MAX = (1 << 256) - 1
TEXT_MAX = 4096  # characters of a text field
LIST_MAX = 1024  # items of a list field


def _obj(path: str, v: Any, fields: set[str]) -> dict:
    if type(v) is not dict:
        raise GenesisError(f"{path}: expected an object")
    for k in sorted(fields - set(v)):
        raise GenesisError(f"{path}.{k}: required field is missing")
    for k in sorted(set(v) - fields):
        raise GenesisError(f"{path}.{k}: unknown field")
    return v


def _text(path: str, v: Any) -> str:
    if type(v) is not str or len(v) > TEXT_MAX:
        raise GenesisError(f"{path}: expected a string of at most {TEXT_MAX} characters")
    return v


def value(path: str, shape: Any, v: Any) -> Any:
    """The JSON value v checked against shape; GenesisError names path."""
    if shape == "int":
        return _int(path, v, 0, INT_MAX)
    if shape == "addr":
        return _addr(path, v)
    if shape == "bytes":
        return _hex(path, v)
    if shape == "str":
        return _text(path, v)
    if shape in ("bool", "true"):
        if type(v) is not bool or (shape == "true" and v is not True):
            raise GenesisError(f"{path}: expected {'true' if shape == 'true' else 'true or false'}")
        return v
    if isinstance(shape, dict):
        o = _obj(path, v, set(shape))
        return {f: value(f"{path}.{f}", s, o[f]) for f, s in shape.items()}
    kind, inner = shape
    if kind == "enum":
        if v not in inner:
            raise GenesisError(f"{path}: one of {', '.join(map(str, inner))}")
        return v
    if kind == "opt":
        return None if v is None else value(path, inner, v)
    if kind == "map":
        if type(v) is not dict:
            raise GenesisError(f"{path}: expected an object")
        return {_text(f"{path}.{k}", k): value(f"{path}.{k}", inner, x) for k, x in sorted(v.items())}
    if kind == "list":
        if type(v) is not list or len(v) > LIST_MAX:
            raise GenesisError(f"{path}: expected a list of at most {LIST_MAX} items")
        return [value(f"{path}[{i}]", inner, x) for i, x in enumerate(v)]
    raise AssertionError(f"unknown shape {shape!r}")  # a declaration's bug


def _key_field(path: str, kind: str, v: Any) -> Any:
    if kind == "u64":
        return _int(path, v, 0, (1 << 64) - 1)
    if kind == "addr":
        return _addr(path, v)
    if kind == "bytes":
        return _hex(path, v)
    t = _text(path, v)
    if not t:
        raise GenesisError(f"{path}: expected a non-empty string")
    return t


def _entry(path: str, rec: Record, v: Any) -> Any:
    if rec.single:
        return value(path, rec.value, v)
    vfields = set(rec.value) if isinstance(rec.value, dict) else {rec.field}
    o = _obj(path, v, {n for n, _ in rec.key} | vfields)
    out = {n: _key_field(f"{path}.{n}", kind, o[n]) for n, kind in rec.key}
    if isinstance(rec.value, dict):
        out.update({f: value(f"{path}.{f}", s, o[f]) for f, s in rec.value.items() if f not in out})
        for n, _ in rec.key:  # a key field repeated in the value (an id): checked as the key
            if n in rec.value:
                value(f"{path}.{n}", rec.value[n], o[n])
    else:
        out[rec.field] = value(f"{path}.{rec.field}", rec.value, o[rec.field])
    return out


def check(name: str, raw: Any, records: tuple[Record, ...]) -> dict:
    """A typed section: {record name: entry or [entries]}, each checked; keys unique."""
    s = raw
    if type(s) is not dict:
        raise GenesisError(f"{name}: expected an object")
    known = {r.name: r for r in records}
    for k in sorted(set(s) - set(known)):
        raise GenesisError(f"{name}.{k}: unknown field")
    out: dict = {}
    for rec in records:
        if rec.name not in s:
            continue
        path = f"{name}.{rec.name}"
        if rec.single:
            out[rec.name] = _entry(path, rec, s[rec.name])
            continue
        if type(s[rec.name]) is not list:
            raise GenesisError(f"{path}: expected a list")
        entries, seen = [], set()
        for i, e in enumerate(s[rec.name]):
            entry = _entry(f"{path}[{i}]", rec, e)
            key = rec.key_of(entry)
            if key in seen:
                raise GenesisError(f"{path}[{i}]: a second entry for the same key")
            seen.add(key)
            entries.append(entry)
        out[rec.name] = entries
    return out


def _json(shape: Any, v: Any) -> Any:
    if v is None or type(v) is bool or type(v) is str:
        return v
    if shape == "addr":
        return encode_address(v)
    if shape == "bytes" or type(v) is bytes:
        return "0x" + v.hex()
    if type(v) is int:
        return str(v)
    if isinstance(shape, dict):
        return {f: _json(s, v[f]) for f, s in shape.items()}
    kind, inner = shape
    if kind == "map":
        return {k: _json(inner, x) for k, x in v.items()}
    if kind == "list":
        return [_json(inner, x) for x in v]
    return _json(inner, v)


def _entry_json(rec: Record, e: Any) -> Any:
    if rec.single:
        return _json(rec.value, e)
    out = {n: _json(kind, e[n]) if kind != "u64" else str(e[n]) for n, kind in rec.key}
    if isinstance(rec.value, dict):
        out.update({f: _json(s, e[f]) for f, s in rec.value.items() if f not in out})
    else:
        out[rec.field] = _json(rec.value, e[rec.field])
    return out


def to_json(section: dict, records: tuple[Record, ...]) -> dict:
    """The JSON form of a typed section (the inverse of check)."""
    out: dict = {}
    for rec in records:
        if rec.name in section:
            e = section[rec.name]
            out[rec.name] = _entry_json(rec, e) if rec.single else [_entry_json(rec, x) for x in e]
    return out
