"""Requests built and signed by the official legacy SDK are accepted.

``qcloudapi-sdk-python`` 2.0.15 signs over the service domain it believes it
talks to (``cvm.api.qcloud.com``); its HTTPS connection is swapped for a
plain one to the emulator, so the SDK's own ``call`` path runs unchanged.
"""

from __future__ import annotations

import json
import time
from http.client import HTTPConnection
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from QcloudApi.modules.cvm import Cvm
from QcloudApi.qcloudapi import QcloudApi

from reconciler.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

from .conftest import INSTANCE_SPEC, Client


class LoopbackConnection(HTTPConnection):
    """Plain HTTP with the attribute the SDK's request code reads."""

    request_length = 0

    def send(self, data: Any) -> None:
        self.request_length += len(data)
        super().send(data)


def sdk_config(method: str, signature_method: str) -> dict[str, str]:
    return {
        "Region": "ap-guangzhou",
        "secretId": DEFAULT_SECRET_ID,
        "secretKey": DEFAULT_SECRET_KEY,
        "method": method,
        "SignatureMethod": signature_method,
    }


def sdk_call(
    client: Client, service: Any, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    address = urlsplit(client.server.url)
    service.apiRequest.conn = LoopbackConnection(address.hostname, address.port)
    return json.loads(service.call(action, params))


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("signature_method", ["HmacSHA1", "HmacSHA256"])
def test_sdk_calls_are_accepted(
    client: Client, method: str, signature_method: str
) -> None:
    cvm = Cvm(sdk_config(method, signature_method))

    created = sdk_call(
        client, cvm, "RunInstancesHour", {**INSTANCE_SPEC, "goodsNum": 2}
    )
    ids = created["unInstanceIds"]
    described = sdk_call(client, cvm, "DescribeInstances", {"instanceIds": ids})
    renamed = sdk_call(
        client,
        cvm,
        "ModifyInstanceAttributes",
        {"instanceId": ids[0], "instanceName": "web 01/测试+a&b=c"},
    )

    assert created["code"] == 0
    assert described["totalCount"] == 2
    assert renamed["code"] == 0
    assert client.describe([ids[0]])["instanceSet"][0]["instanceName"] == (
        "web 01/测试+a&b=c"
    )


def generated_url(client: Client, action: str, params: dict[str, Any]) -> str:
    """An SDK-generated GET URL, pointed at the emulator's /cvm/ path."""
    api = QcloudApi("cvm", sdk_config("GET", "HmacSHA256"))
    url = urlsplit(api.generateUrl(action, params))
    assert url.netloc == "cvm.api.qcloud.com"
    return f"{client.server.url}/cvm{url.path}?{url.query}"


def get(client: Client, url: str) -> dict[str, Any]:
    return client.session.get(url, timeout=10).json()


def test_sdk_generated_url_is_accepted_once(client: Client) -> None:
    url = generated_url(client, "DescribeInstances", {"limit": 10})

    assert get(client, url)["code"] == 0
    assert get(client, url)["code"] == 4500


def test_sdk_url_with_a_tampered_parameter_is_refused(client: Client) -> None:
    url = generated_url(client, "DescribeInstances", {"limit": 10})

    assert get(client, url.replace("limit=10", "limit=11"))["code"] == 4100


def test_sdk_url_with_a_stale_timestamp_is_refused(client: Client) -> None:
    stale = int(time.time()) - 3600
    url = generated_url(client, "DescribeInstances", {"Timestamp": stale})

    assert get(client, url)["code"] == 4200


def test_sdk_url_with_an_edited_timestamp_is_refused(client: Client) -> None:
    url = generated_url(client, "DescribeInstances", {})
    base, query = url.split("?", 1)
    params = dict(parse_qsl(query))
    params["Timestamp"] = str(int(params["Timestamp"]) + 1)

    assert get(client, f"{base}?{urlencode(params)}")["code"] == 4100
