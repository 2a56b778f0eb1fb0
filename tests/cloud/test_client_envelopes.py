"""Every answer envelope becomes a typed result or a classified error."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.errors import (
    ApiError,
    PermanentApiError,
    RateLimitedError,
    ResourceNotFoundError,
    TransientApiError,
    TransportError,
)
from reconciler.cloud.results import CODE_MISSING
from reconciler.cloud.testing import ScriptedServer

IDS = ["ins-aaaaaaaa", "ins-bbbbbbbb"]


def test_sync_answer_is_returned_as_is(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"code": 0, "message": "", "totalCount": 0, "instanceSet": []})

    body = client.call("cvm", "DescribeInstances", {})

    assert body["totalCount"] == 0


@pytest.mark.parametrize("request_id", [4711, "4711"])
def test_single_async_answer_keeps_request_id(
    server: ScriptedServer, client: LegacyClient, request_id: object
) -> None:
    server.answer({"code": 0, "message": "", "requestId": request_id})

    body = client.call("lb", "DeleteLoadBalancers", {"loadBalancerIds": ["lb-1"]})

    assert int(body["requestId"]) == 4711


def test_string_code_zero_counts_as_success(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"code": "0", "message": ""})

    assert client.call("cvm", "DescribeInstances", {})["code"] == 0


def test_batch_all_succeeded(server: ScriptedServer, client: LegacyClient) -> None:
    server.answer(
        {
            "code": 0,
            "message": "",
            "detail": {
                IDS[0]: {"code": 0, "message": "", "requestId": 81231},
                IDS[1]: {"code": 0, "message": "", "requestId": "81232"},
            },
        }
    )

    result = client.call_batch("cvm", "StartInstances", "instanceIds", IDS, {})

    assert result.outer_code == 0
    assert result.succeeded == IDS
    assert result.failed == []
    assert result.items[IDS[0]].task_id == 81231
    assert result.items[IDS[1]].task_id == 81232
    assert result.task_ids == {IDS[0]: 81231, IDS[1]: 81232}


def test_batch_partly_failed_is_returned_not_raised(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer(
        {
            "code": 5400,
            "message": "some operations failed",
            "detail": {
                IDS[0]: {"code": 0, "message": "", "requestId": 81231},
                IDS[1]: {
                    "code": 5100,
                    "message": "(EC_CVM_STATUS_ERROR) instance is not stopped",
                    "requestId": 0,
                },
            },
        }
    )

    result = client.call_batch("cvm", "StartInstances", "instanceIds", IDS, {})

    assert result.outer_code == 5400
    assert result.succeeded == [IDS[0]]
    [failed] = result.failed
    assert failed.resource_id == IDS[1]
    assert failed.code == 5100
    assert failed.task_id is None
    assert failed.transient
    assert "not stopped" in failed.message


def test_batch_all_failed_is_returned_not_raised(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer(
        {
            "code": 5100,
            "message": "all failed",
            "detail": {
                IDS[0]: {"code": 5000, "message": "not found", "requestId": 0},
                IDS[1]: {"code": 5100, "message": "busy", "requestId": 0},
            },
        }
    )

    result = client.call_batch("cvm", "StopInstances", "instanceIds", IDS, {})

    assert result.outer_code == 5100
    assert result.succeeded == []
    assert [item.code for item in result.failed] == [5000, 5100]
    assert not result.items[IDS[0]].transient
    assert result.items[IDS[1]].transient


def test_batch_detail_missing_an_id_counts_it_as_failed(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer(
        {
            "code": 0,
            "message": "",
            "detail": {IDS[0]: {"code": 0, "message": "", "requestId": 1}},
        }
    )

    result = client.call_batch("cvm", "StartInstances", "instanceIds", IDS, {})

    assert result.succeeded == [IDS[0]]
    [missing] = result.failed
    assert missing.resource_id == IDS[1]
    assert missing.code == CODE_MISSING
    assert missing.transient


def test_batch_detail_as_a_list_is_tolerated(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer(
        {
            "code": 0,
            "message": "",
            "detail": [
                {"unInstanceId": IDS[0], "code": 0, "requestId": 7},
                {"unInstanceId": IDS[1], "code": 0, "requestId": 8},
            ],
        }
    )

    result = client.call_batch("cvm", "StartInstances", "instanceIds", IDS, {})

    assert result.task_ids == {IDS[0]: 7, IDS[1]: 8}


def test_batch_plain_success_without_detail_succeeds_for_every_id(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"code": 0, "message": ""})

    result = client.call_batch("cvm", "BindInstanceKey", "instanceIds", IDS, {})

    assert result.succeeded == IDS


def test_batch_whole_call_error_is_raised_with_the_ids(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"code": 4000, "message": "(100004) bad", "codeDesc": "Invalid"})

    with pytest.raises(PermanentApiError) as caught:
        client.call_batch("cvm", "StartInstances", "instanceIds", IDS, {})

    assert caught.value.resource_ids == tuple(IDS)
    assert IDS[0] in str(caught.value)


def test_batch_ids_are_sent_zero_based(
    server: ScriptedServer, client: LegacyClient
) -> None:
    client.call_batch("cvm", "StopInstances", "instanceIds", IDS, {"forceStop": 1})

    form = server.requests[0].form
    assert [form["instanceIds.0"], form["instanceIds.1"]] == IDS
    assert form["forceStop"] == "1"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (4000, PermanentApiError),
        (4100, PermanentApiError),
        (4101, PermanentApiError),
        (4300, PermanentApiError),
        (4600, PermanentApiError),
        (5000, ResourceNotFoundError),
        (5200, PermanentApiError),
        (5300, PermanentApiError),
        (5500, PermanentApiError),
        (6100, PermanentApiError),
        (5100, TransientApiError),
    ],
)
def test_error_codes_are_classified(
    server: ScriptedServer, client: LegacyClient, code: int, expected: type[ApiError]
) -> None:
    server.answer({"code": code, "message": "(x) nope", "codeDesc": "Name"})

    with pytest.raises(expected) as caught:
        client.call("cvm", "ReturnInstance", {"instanceId": "ins-1"})

    error = caught.value
    assert error.code == code
    assert error.code_desc == "Name"
    assert error.message == "(x) nope"
    assert error.action == "ReturnInstance"
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (4200, TransientApiError),
        (4400, RateLimitedError),
        (4500, TransientApiError),
        (6000, TransientApiError),
        (6200, TransientApiError),
    ],
)
def test_retryable_codes_are_transient_when_attempts_run_out(
    server: ScriptedServer,
    make_client: Callable[..., LegacyClient],
    code: int,
    expected: type[ApiError],
) -> None:
    client = make_client(max_attempts=1)
    server.answer({"code": code, "message": "later"})

    with pytest.raises(expected) as caught:
        client.call("cvm", "DescribeInstances", {})

    assert caught.value.transient


def test_error_message_is_one_line_with_action_and_code(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"code": 5000, "message": "instance\ngone"})

    with pytest.raises(ApiError) as caught:
        client.call("cvm", "ReturnInstance", {}, resource_ids=["ins-1"])

    text = str(caught.value)
    assert "\n" not in text
    assert text == (
        "ReturnInstance failed with code 5000 (ResourceNotFound): instance gone "
        "[resources: ins-1]"
    )


def test_api_30_answer_is_a_permanent_error(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer({"Response": {"Error": {"Code": "AuthFailure"}}})

    with pytest.raises(PermanentApiError, match="API 3.0"):
        client.call("cvm", "DescribeInstances", {})


def test_non_json_answer_is_a_transport_error(
    server: ScriptedServer, make_client: Callable[..., LegacyClient]
) -> None:
    client = make_client(max_attempts=1)
    server.answer((200, "<html>proxy</html>"))

    with pytest.raises(TransportError, match="not JSON") as caught:
        client.call("cvm", "DescribeInstances", {})

    assert caught.value.code is None
    assert caught.value.transient


def test_http_404_is_permanent(server: ScriptedServer, client: LegacyClient) -> None:
    server.answer((404, "no such path"))

    with pytest.raises(PermanentApiError, match="HTTP 404"):
        client.call("cvm", "DescribeInstances", {})


def test_connection_refused_is_a_transport_error(
    make_client: Callable[..., LegacyClient],
) -> None:
    client = make_client(endpoint="http://127.0.0.1:9", max_attempts=1)

    with pytest.raises(TransportError) as caught:
        client.call("cvm", "StartInstances", {}, resource_ids=["ins-1"])

    assert caught.value.resource_ids == ("ins-1",)
    assert isinstance(caught.value.__cause__, Exception)
