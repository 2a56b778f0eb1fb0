"""Writes that may have happened are reported, not repeated.

A request that reached the server and got no usable answer may have taken
effect. Repeating it is safe only for reads and for creates that carry a
``clientToken``; any other write raises ``UnknownOutcomeError`` (a
``TransportError``) after one attempt, so the executor refreshes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.errors import TransportError, UnknownOutcomeError
from reconciler.cloud.testing import ScriptedServer, Seen

ClientFactory = Callable[..., LegacyClient]
OK = {"code": 0, "message": ""}


def slow(seen: Seen) -> dict[str, Any]:
    time.sleep(0.15)
    return OK


@pytest.fixture
def impatient(make_client: ClientFactory) -> LegacyClient:
    return make_client(timeout=(1.0, 0.05), max_attempts=3)


def test_write_without_token_after_read_timeout_is_not_repeated(
    server: ScriptedServer, impatient: LegacyClient
) -> None:
    server.answer(slow, OK)

    with pytest.raises(UnknownOutcomeError) as caught:
        impatient.call("eip", "EipBindInstance", {"eipId": "eip-1"}, resource_ids=["x"])

    assert len(server.requests) == 1
    assert isinstance(caught.value, TransportError)
    assert caught.value.may_have_taken_effect
    assert caught.value.resource_ids == ("x",)
    assert "may have taken effect" in str(caught.value)


def test_create_with_client_token_after_read_timeout_is_repeated(
    server: ScriptedServer, impatient: LegacyClient
) -> None:
    server.answer(slow, {"code": 0, "unInstanceIds": ["ins-1"]})

    body = impatient.call("cvm", "RunInstancesHour", {"clientToken": "t-1"})

    assert body["unInstanceIds"] == ["ins-1"]
    assert len(server.requests) == 2


def test_read_after_read_timeout_is_repeated(
    server: ScriptedServer, impatient: LegacyClient
) -> None:
    server.answer(slow, OK)

    impatient.call("lb", "DescribeLoadBalancersTaskResult", {"requestId": 1})

    assert len(server.requests) == 2


def test_caller_may_declare_a_write_repeatable(
    server: ScriptedServer, impatient: LegacyClient
) -> None:
    server.answer(slow, OK)

    impatient.call("cvm", "ModifyInstanceAttributes", {}, repeatable=True)

    assert len(server.requests) == 2


def test_batch_write_after_read_timeout_is_not_repeated(
    server: ScriptedServer, impatient: LegacyClient
) -> None:
    server.answer(slow, OK)

    with pytest.raises(UnknownOutcomeError) as caught:
        impatient.call_batch("cvm", "StopInstances", "instanceIds", ["ins-1"])

    assert caught.value.resource_ids == ("ins-1",)
    assert len(server.requests) == 1


def test_write_answered_by_a_gateway_error_is_unknown(
    server: ScriptedServer, client: LegacyClient
) -> None:
    server.answer((502, "<html>bad gateway</html>"), OK)

    with pytest.raises(UnknownOutcomeError):
        client.call("lb", "DeleteLoadBalancers", {"loadBalancerIds": ["lb-1"]})

    assert len(server.requests) == 1


def test_write_turned_away_with_503_is_repeated(
    server: ScriptedServer, client: LegacyClient
) -> None:
    # 503 and 429 from a proxy mean the request was not forwarded.
    server.answer((503, "busy"), (429, "slow down"), OK)

    client.call("lb", "DeleteLoadBalancers", {"loadBalancerIds": ["lb-1"]})

    assert len(server.requests) == 3


def test_write_that_never_connected_is_repeated_then_raised(
    make_client: ClientFactory, sleeps: list[float]
) -> None:
    client = make_client(endpoint="http://127.0.0.1:9", max_attempts=3)

    with pytest.raises(TransportError) as caught:
        client.call("eip", "CreateEip", {"goodsNum": 1})

    assert not isinstance(caught.value, UnknownOutcomeError)
    assert len(sleeps) == 2


def test_unknown_outcome_is_logged_as_a_warning(
    server: ScriptedServer,
    impatient: LegacyClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.answer(slow)

    with pytest.raises(UnknownOutcomeError):
        impatient.call("vpc", "DeleteVpc", {"vpcId": "vpc-1"})

    [record] = [r for r in caplog.records if "Not repeating" in r.getMessage()]
    assert "vpc.DeleteVpc" in record.getMessage()
