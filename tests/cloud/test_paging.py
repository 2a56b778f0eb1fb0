"""Pagination and id chunking shared by the service modules."""

from __future__ import annotations

from typing import Any

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.paging import chunked, describe_all, describe_ids, items_at
from reconciler.cloud.testing import ScriptedServer, Seen


def test_chunked_splits_in_order() -> None:
    assert list(chunked([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunked([], 100)) == []


def test_items_at_follows_dotted_paths() -> None:
    body = {"data": {"eipSet": [{"eipId": "eip-1"}, "junk"]}}

    assert items_at(body, "data.eipSet") == [{"eipId": "eip-1"}]
    assert items_at(body, "data.missing") == []
    assert items_at({"data": [{"a": 1}]}, "data") == [{"a": 1}]


def test_describe_all_reads_total_count_inside_data(
    server: ScriptedServer, client: LegacyClient
) -> None:
    page = [{"vpcId": str(n)} for n in range(100)]
    server.answer(
        {"code": 0, "totalCount": 200, "data": page},
        {"code": 0, "totalCount": 200, "data": page},
    )

    found = describe_all(client, "vpc", "DescribeVpcEx", "data")

    assert len(found) == 200
    assert len(server.requests) == 2


def test_describe_all_stops_on_a_short_page_without_total(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"code": 0, "data": {"eipSet": [{"eipId": "eip-1"}]}})

    found = describe_all(client, "eip", "DescribeEip", "data.eipSet")

    assert found == [{"eipId": "eip-1"}]
    assert len(server.requests) == 1


def test_describe_ids_sends_each_id_once(
    server: ScriptedServer, client: LegacyClient
) -> None:
    def echo(seen: Seen) -> dict[str, Any]:
        ids = [v for k, v in seen.form.items() if k.startswith("eipIds.")]
        return {"code": 0, "data": {"eipSet": [{"eipId": i} for i in ids]}}

    server.answer(echo)

    found = describe_ids(
        client, "eip", "DescribeEip", "data.eipSet", "eipIds", ["e1", "e2", "e1"]
    )

    assert [item["eipId"] for item in found] == ["e1", "e2"]
