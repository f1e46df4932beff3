"""The canonical form and hash recipe (a fixed vector, also in docs/audit-log.md), and verifying
rows from sources other than the database (dicts, workbook-style values)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from procurement.audit import (
    CONTENT_CHANGED,
    GENESIS_HASH,
    INSERTED,
    EventRecord,
    canonical_json,
    format_timestamp,
    verify_rows,
)
from procurement.errors import InputError

# The worked example of docs/audit-log.md: if these change, the recipe changed.
EVENT_1 = {
    "id": 1,
    "chain": "demo-city",
    "seq": 1,
    "occurred_at": "2026-06-12T00:30:00.000000Z",
    "actor": "tanaka",
    "event_type": "case.created",
    "case_id": 7,
    "payload": '{"department":"総務課","title":"議事録の要約"}',
    "prev_hash": GENESIS_HASH,
    "hash": "9d2d83c13c365a3f56377978b4c2856061d44b0ba2d100d5ee0bfc8a6aa7c053",
}
EVENT_2 = {
    "id": 2,
    "chain": "demo-city",
    "seq": 2,
    "occurred_at": "2026-06-12T00:31:05.250000Z",
    "actor": "sato",
    "event_type": "case.submitted",
    "case_id": 7,
    "payload": '{"comment":"確認お願いします"}',
    "prev_hash": "9d2d83c13c365a3f56377978b4c2856061d44b0ba2d100d5ee0bfc8a6aa7c053",
    "hash": "19be61e994163bbdf6b417fffa71525a329c0213e74f1ba4901f9a7225ca97ac",
}
CANONICAL_1 = (
    '{"actor":"tanaka","case_id":7,"chain":"demo-city","event_type":"case.created",'
    '"occurred_at":"2026-06-12T00:30:00.000000Z",'
    '"payload":"{\\"department\\":\\"総務課\\",\\"title\\":\\"議事録の要約\\"}","seq":1}'
)


def test_canonical_form_is_sorted_compact_utf8_json_of_the_columns():
    assert EventRecord.from_row(EVENT_1).canonical() == CANONICAL_1


def test_hash_is_sha256_of_prev_hash_newline_canonical():
    by_hand = hashlib.sha256((GENESIS_HASH + "\n" + CANONICAL_1).encode("utf-8")).hexdigest()
    assert by_hand == EVENT_1["hash"]
    assert EventRecord.from_row(EVENT_1).compute_hash() == EVENT_1["hash"]
    assert EventRecord.from_row(EVENT_2).compute_hash() == EVENT_2["hash"]


def test_worked_example_verifies_and_reports_its_head():
    [report] = verify_rows([EVENT_2, EVENT_1])  # any order
    assert report.ok
    assert report.describe() == f"OK demo-city 2 events, head 2:{EVENT_2['hash']}"


def test_timestamps_are_normalised_to_utc_microseconds():
    jst = timezone(timedelta(hours=9))
    expected = "2026-06-12T00:30:00.000000Z"
    assert format_timestamp(datetime(2026, 6, 12, 9, 30, tzinfo=jst)) == expected
    assert format_timestamp(datetime(2026, 6, 12, 0, 30)) == expected  # naive = UTC (SQLite)
    assert format_timestamp("2026-06-12T09:30:00+09:00") == expected
    assert format_timestamp("2026-06-12 00:30:00") == expected
    with pytest.raises(InputError, match="not an ISO 8601 timestamp"):
        format_timestamp("12/06/2026")


def test_canonical_json_escapes_only_what_json_requires():
    assert canonical_json({"b": "改行\n", "a": [1, None, True]}) == '{"a":[1,null,true],"b":"改行\\n"}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_workbook_style_values_verify_like_the_originals():
    # A workbook gives integers back as floats and the timestamp as text with another offset.
    from_sheet = [
        {**EVENT_1, "seq": 1.0, "case_id": "7", "occurred_at": "2026-06-12T09:30:00+09:00"},
        {**EVENT_2, "seq": "2", "case_id": 7.0, "hash": EVENT_2["hash"].upper()},
    ]
    [report] = verify_rows(from_sheet)
    assert report.ok and report.count == 2


def test_objects_with_attributes_are_accepted():
    class Row:
        def __init__(self, values):
            self.__dict__.update(values)

    [report] = verify_rows([Row(EVENT_1), Row(EVENT_2)])
    assert report.ok


def test_edited_cell_in_a_sheet_is_named():
    edited = {**EVENT_1, "payload": '{"department":"総務課","title":"別の件名"}'}
    [report] = verify_rows([edited, EVENT_2])
    assert (report.problem, report.bad_seq) == (CONTENT_CHANGED, 1)
    assert report.describe().startswith("FAIL demo-city seq 1: content changed:")


def test_duplicate_seq_in_a_sheet_is_an_insertion():
    [report] = verify_rows([EVENT_1, EVENT_2, {**EVENT_2, "id": 3, "actor": "intruder"}])
    assert (report.problem, report.bad_seq) == (INSERTED, 2)


def test_malformed_values_name_the_field():
    with pytest.raises(InputError, match="seq 'two' is not an integer"):
        verify_rows([{**EVENT_1, "seq": "two"}])


def test_head_and_chain_filters_on_rows():
    other = {**EVENT_1, "chain": "demo-ministry"}
    with pytest.raises(InputError, match="--head needs --chain"):
        verify_rows([EVENT_1, other], head=f"1:{EVENT_1['hash']}")
    [report] = verify_rows([EVENT_1, EVENT_2, other], chain="demo-city", head=f"1:{EVENT_1['hash']}")
    assert report.ok and report.chain == "demo-city"
    [report] = verify_rows([EVENT_1], chain="demo-city", head=f"2:{EVENT_2['hash']}")
    assert (report.problem, report.bad_seq) == ("event_missing", 2)
    with pytest.raises(InputError, match="SEQ must be >= 1 and HASH 64 hex digits"):
        verify_rows([EVENT_1], head="1:xyz")


def test_unreadable_cells_fail_their_event_instead_of_aborting():
    for column, value in (("occurred_at", "yesterday"), ("case_id", "seven")):
        [report] = verify_rows([{**EVENT_1, column: value}, EVENT_2])
        assert (report.problem, report.bad_seq) == (CONTENT_CHANGED, 1), column
