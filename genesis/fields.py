"""Field converters for genesis JSON: each names the offending field when it refuses (the
converters and GenesisError are modules/core/sections.py's, which module sections use too)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from rwachain.modules.core.sections import DIGITS_MAX, GenesisError  # noqa: F401 (the genesis layer's names too)
from rwachain.modules.core.sections import address_field as _addr  # noqa: F401
from rwachain.modules.core.sections import hex_field as _hex  # noqa: F401
from rwachain.modules.core.sections import int_field as _int  # noqa: F401


@contextlib.contextmanager
def json_numbers_of_any_length() -> Iterator[None]:
    """Lift Python's limit on the digits of an int while a genesis is streamed: the C JSON
    parser (ijson's yajl2_c) crashes the process on a number past it, instead of raising.
    A number that long is then refused by _int, naming its field."""
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(old)


def any_length_numbers(events: Iterable[Any]) -> Iterator[Any]:
    """The items of a streaming JSON parser's iterator, each parsed with the limit lifted
    (json_numbers_of_any_length) and only while it is parsed."""
    it = iter(events)
    while True:
        with json_numbers_of_any_length():
            try:
                item = next(it)
            except StopIteration:
                return
        yield item
