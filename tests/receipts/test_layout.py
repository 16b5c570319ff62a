"""Task-instance folders: a readable, reversible, path-safe encoding of the identity."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.receipts.support import refuse_non_loopback
from whatcounts_provider.receipts import (
    TaskIdentity,
    decode_component,
    encode_component,
    legacy_task_instance_folder,
    parse_task_instance_parts,
    task_instance_folder,
    task_instance_parts,
)
from whatcounts_provider.storage import Location

ODD_RUN_IDS = [
    "manual__2026-11-25T16:00:00+00:00",
    "scheduled__2026-11-25T00:00:00.123456+05:30",
    "dataset_triggered__2026-11-25T16:00:00+00:00",
    "backfill__2026-01-01T00:00:00+00:00",
    "my run/with slash and spaces",
    "..",
    ".hidden",
    "percent%41-not-an-escape",
    "tilde~and=equals&amp?",
    "ünïcødé-日本語-🚀",
    ":" * 66,  # 198 characters encoded: the longest that stays reversible
]


@pytest.mark.parametrize("run_id", ODD_RUN_IDS)
def test_odd_run_ids_round_trip(run_id: str) -> None:
    identity = TaskIdentity("dag.v2", run_id, "group.task", 12, 1)
    names = task_instance_parts(identity)
    for name in names:
        assert "/" not in name
        assert not name.startswith(".")
        assert len(name.encode()) <= 255
        assert name.isascii()
    key, _, value = names[1].partition("=")
    assert key == "run_id"
    assert not value.startswith(".")
    assert parse_task_instance_parts(names) == {
        "dag_id": "dag.v2",
        "run_id": run_id,
        "task_id": "group.task",
        "map_index": 12,
    }


def test_the_encoding_stays_readable() -> None:
    """Layout 2 keeps ":" and "+": the run ids Airflow makes name their folders as they are."""
    identity = TaskIdentity("opt_out", "manual__2026-11-25T16:00:00+00:00", "stop", -1, 3)
    assert task_instance_parts(identity) == (
        "dag_id=opt_out",
        "run_id=manual__2026-11-25T16:00:00+00:00",
        "task_id=stop",
        "map_index=-1",
    )
    assert task_instance_parts(identity, layout=1)[1] == "run_id=manual__2026-11-25T16%3A00%3A00%2B00%3A00"


def test_a_folder_of_layout_1_is_named_only_when_it_differs(tmp_path: Path) -> None:
    plain = TaskIdentity("d", "r", "t", -1, 1)
    assert legacy_task_instance_folder(tmp_path, plain) is None
    timed = TaskIdentity("d", "manual__x:y", "t", -1, 1)
    legacy = legacy_task_instance_folder(tmp_path, timed)
    assert legacy is not None
    assert legacy.uri.endswith("/run_id=manual__x%253Ay/task_id=t/map_index=-1")  # "%" written "%25"


@given(st.text(min_size=1, max_size=16))  # <= 192 encoded chars: never shortened
def test_any_text_round_trips(value: str) -> None:
    encoded = encode_component(value)
    assert decode_component(encoded) == value
    assert all(c.isalnum() or c in "-_.:+%" for c in encoded)
    assert encoded.isascii()


def test_overlong_values_are_shortened_uniquely_and_say_so() -> None:
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    enc_a, enc_b = encode_component(long_a), encode_component(long_b)
    assert enc_a != enc_b
    assert len(enc_a) <= 200
    assert "~" in enc_a
    assert encode_component(long_a) == enc_a  # deterministic: a retry finds the same folder
    with pytest.raises(ValueError, match="shortened"):
        decode_component(enc_a)
    escaped = encode_component("/" * 100)  # 300 encoded chars: the cut must not split "%2F"
    assert "~" in escaped
    assert escaped.split("~")[0].endswith("%2F")


@pytest.mark.parametrize(
    ("bad", "why"),
    [("", "not an encoded"), ("a/b", "not an encoded"), ("%zz/", "not an encoded"), ("a~b", "shortened")],
)
def test_bad_names_do_not_decode(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        decode_component(bad)


def test_empty_identity_values_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        task_instance_parts(TaskIdentity("dag", "", "task", -1, 1))


def test_identity_from_a_task_instance() -> None:
    class TI:
        dag_id, run_id, task_id, map_index, try_number = "d", "r", "t", None, 4

    assert TaskIdentity.from_context({"ti": TI()}) == TaskIdentity("d", "r", "t", -1, 4)


def test_every_location_form_gives_the_same_local_folder(tmp_path: Path) -> None:
    identity = TaskIdentity("d", "manual__x:y", "t", -1, 1)

    forms: list[Any] = [
        str(tmp_path),
        tmp_path,
        f"file://{tmp_path}",
        Location.of(f"file://{tmp_path}").object_storage_path(),
    ]
    uris = {task_instance_folder(form, identity).uri for form in forms}
    assert uris == {f"file://{tmp_path}/dag_id=d/run_id=manual__x:y/task_id=t/map_index=-1"}
    folder = task_instance_folder(str(tmp_path), identity)
    assert Location.of(folder.uri) == folder  # the URI handed out reads back
    odd = task_instance_folder(str(tmp_path), TaskIdentity("d", "run 1/2", "t", -1, 1))
    odd.put("x.txt", b"x")
    assert "run_id=run%25201%252F2" in odd.uri  # the folder holds "%20": the URI writes "%2520"
    assert Path(unquote(urlsplit(odd.uri).path), "x.txt").is_file()
    assert Location.of(odd.uri) == odd


def test_an_s3_uri_keeps_its_connection_id(s3_location: str) -> None:
    identity = TaskIdentity("d", "manual__x:y", "t", 0, 1)
    folder = task_instance_folder(s3_location, identity)
    assert folder.uri == f"{s3_location}/dag_id=d/run_id=manual__x:y/task_id=t/map_index=0"
    assert not folder.is_local

    assert task_instance_folder(Location.of(s3_location).object_storage_path(), identity) == folder


def test_the_loopback_guard_refuses_other_addresses() -> None:
    """The check behind every receipts test's sockets (conftest.loopback_only); no socket here."""
    refuse_non_loopback(socket.AF_INET, ("127.0.0.1", 80))
    refuse_non_loopback(socket.AF_INET6, ("::1", 80, 0, 0))
    refuse_non_loopback(socket.AF_UNIX, "/tmp/any.sock")
    for address in [("192.0.2.1", 443), ("10.0.0.1", 80)]:
        with pytest.raises(AssertionError, match=r"tried to connect to"):
            refuse_non_loopback(socket.AF_INET, address)


def test_the_loopback_guard_is_installed() -> None:
    """conftest.loopback_only wraps every socket's connect while these tests run."""
    assert "connect" in vars(socket.socket)
    assert "connect_ex" in vars(socket.socket)
