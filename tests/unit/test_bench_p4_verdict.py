"""P4's verdict on the 50 ms and growth targets (issue 21, session 16): judged where the
server streams index ranges, "n/a" with the reason where a page reads every match (the
server's point reads per page, from its own counters, tell which)."""

from __future__ import annotations

from bench.common import Figure, point_reads
from bench.p4_scale import PAGE, STREAMING_READS, _not_streaming
from bench.report import _met


def test_a_page_reading_about_its_own_documents_is_judged() -> None:
    assert STREAMING_READS == 2 * (PAGE + 1)
    assert _not_streaming(None) == ""  # the server does not say: judge strictly
    assert _not_streaming(0) == ""
    assert _not_streaming(STREAMING_READS) == ""


def test_a_page_reading_more_than_twice_its_documents_is_not_judged() -> None:
    why = _not_streaming(STREAMING_READS + 1)
    assert why.startswith("not judged: this server fetched 43 documents by record id for a page")
    assert "ours ≤ 2 × the floor everywhere" in why


def test_a_target_not_judged_reads_n_a_and_no_target_reads_blank() -> None:
    assert _met(Figure("P4", "x", 1.0, "ms", "≤ 50 ms", None)) == "n/a"
    assert _met(Figure("P4", "x", 1.0, "ms", "≤ 50 ms", True)) == "met"
    assert _met(Figure("P4", "x", 99.0, "ms", "≤ 50 ms", False)) == "NOT met"
    assert _met(Figure("P4", "x", 1.0, "ms")) == ""


def test_point_reads_come_from_wiredtigers_cursor_searches() -> None:
    status = {"wiredTiger": {"cursor": {"cursor search calls": 1234}}}
    assert point_reads(status) == 1234
    assert point_reads({}) is None  # a server without WiredTiger's counters
    assert point_reads({"wiredTiger": {"cursor": {}}}) is None
