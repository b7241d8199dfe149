"""Where to resume the box feed after a page (``afterIndexKey``)."""

from __future__ import annotations

from collections.abc import Sequence


def next_cursor(keys: Sequence[str], previous: str | None, full_page: bool) -> str | None:
    """Where to resume after a page whose events had IndexKeys ``keys``.

    After the last page of the feed: the last key. After a full page: the key
    *before* the page's trailing run of equal keys (a run of one included),
    because two events may share an IndexKey across a page boundary (a known
    Diadoc fault) and a server reading ``afterIndexKey`` strictly would skip
    the second. The next page then repeats that run; the repeats are dropped by
    event id. A page made only of one key must move on, or paging would stall.
    """
    if not keys:
        return previous
    last = keys[-1]
    if not full_page:
        return last
    for key in reversed(keys):
        if key != last:
            return key
    return last


__all__ = ["next_cursor"]
