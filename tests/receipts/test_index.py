"""The phone index: which parts of a try hold a phone, in about 12 bytes per (phone, part)."""

from __future__ import annotations

import json

import pytest

from whatcounts_provider.receipts.index import PhoneIndex, build_index, entry, phone_key

PARTS = ["part-1.jsonl", "part-2.jsonl", "part-3.jsonl"]


def test_a_phone_leads_to_exactly_the_parts_that_hold_it() -> None:
    entries = [entry("12065550100", 0), entry("12065550101", 1), entry("12065550100", 2)]
    index = PhoneIndex.parse(build_index(PARTS, entries), "phones.idx")
    assert sorted(index.parts_holding("12065550100")) == ["part-1.jsonl", "part-3.jsonl"]
    assert index.parts_holding("12065550101") == ["part-2.jsonl"]
    assert index.parts_holding("12065550199") == []


def test_repeats_are_kept_once_and_each_costs_twelve_bytes() -> None:
    phones = [f"1206555{n:04d}" for n in range(1000)]
    data = build_index(PARTS, [entry(phone, n % 3) for _ in range(2) for n, phone in enumerate(phones)])
    head, _, body = data.partition(b"\n")
    assert json.loads(head)["entries"] == 1000
    assert len(body) == 1000 * 12
    assert json.loads(head)["parts"] == PARTS


def test_the_key_is_stable_and_holds_no_phone() -> None:
    assert phone_key("12065550100") == phone_key("12065550100")
    assert phone_key("12065550100") != phone_key("12065550101")
    assert b"12065550100" not in build_index(PARTS, [entry("12065550100", 0)])


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"not json\n", "is not a phone index"),
        (b'{"format": "other", "version": 1, "entries": 0, "parts": []}\n', "another format or version"),
        (b'{"format": "whatcounts-phone-index", "version": 9, "entries": 0, "parts": []}\n', "another"),
        (build_index(PARTS, [entry("12065550100", 0)])[:-3], "cut short"),
    ],
)
def test_an_unreadable_index_says_which_file_and_why(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why) as raised:
        PhoneIndex.parse(data, "s3://bucket/try=001/phones.idx")
    assert "s3://bucket/try=001/phones.idx" in str(raised.value)


def test_an_index_naming_a_part_it_does_not_list_is_refused() -> None:
    data = build_index(["part-1.jsonl"], [entry("12065550100", 5)])
    with pytest.raises(ValueError, match="names a part it does not list"):
        PhoneIndex.parse(data, "phones.idx")
