"""Transport, routing and authentication (legacy-api.md sections 1, 4, 6, 14)."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlencode

import requests

from reconciler.cloud.signing import sign

from .conftest import Client


def test_post_signed_over_the_canonical_domain_is_accepted(client: Client) -> None:
    body = client.call("DescribeInstances")

    assert body == {
        "code": 0,
        "message": "",
        "codeDesc": "Success",
        "totalCount": 0,
        "instanceSet": [],
    }


def test_get_signed_over_the_received_host_header_is_accepted(client: Client) -> None:
    host = client.server.url.removeprefix("http://")
    wire = client.signed("DescribeInstances", method="GET", sign_host=host)

    body = client.send(wire, method="GET", path="/v2/index.php")

    assert body["code"] == 0


def test_service_is_chosen_by_the_host_header(client: Client) -> None:
    wire = client.signed("DescribeInstances", service="cvm")

    body = client.send(
        wire, path="/v2/index.php", headers={"Host": "cvm.api.qcloud.com"}
    )

    assert body["code"] == 0


def test_action_of_another_service_domain_is_unknown(client: Client) -> None:
    wire = client.signed("DescribeInstances", service="lb")

    body = client.send(
        wire, path="/v2/index.php", headers={"Host": "lb.api.qcloud.com"}
    )

    assert body["code"] == 6100
    assert body["codeDesc"] == "ActionNotFound"


def test_unknown_action_answers_6100(client: Client) -> None:
    assert client.call("TerminateInstances")["code"] == 6100


def test_unknown_secret_id_answers_4100(client: Client) -> None:
    client.secret_id = "AKIDsomebodyElse"

    body = client.call("DescribeInstances")

    assert body["code"] == 4100
    assert body["codeDesc"] == "AuthFailure"


def test_wrong_secret_key_answers_4100(client: Client) -> None:
    assert client.call("DescribeInstances", secret_key="wrong")["code"] == 4100


def test_tampered_parameter_answers_4100(client: Client) -> None:
    wire = client.signed("DescribeInstances", {"limit": 5})
    wire["limit"] = "6"

    assert client.send(wire)["code"] == 4100


def test_query_string_is_ignored_for_post(client: Client) -> None:
    wire = client.signed("DescribeInstances", {"limit": 5})

    # Parameters in the URL of a POST are not part of the request.
    url = client.server.url + "/cvm/v2/index.php?limit=7"
    body = client.session.post(url, data=wire, timeout=10).json()

    assert body["code"] == 0


def test_stale_timestamp_answers_4200(client: Client) -> None:
    body = client.call("DescribeInstances", timestamp=int(time.time()) - 301)

    assert body["code"] == 4200
    assert body["codeDesc"] == "RequestExpired"


def test_replayed_nonce_answers_4500(client: Client) -> None:
    wire = client.signed("DescribeInstances")

    first = client.send(wire)
    second = client.send(wire)

    assert first["code"] == 0
    assert second["code"] == 4500
    assert second["codeDesc"] == "ReplayAttack"


def test_same_nonce_with_a_new_timestamp_is_not_a_replay(client: Client) -> None:
    now = int(time.time())

    first = client.call("DescribeInstances", nonce=42, timestamp=now)
    second = client.call("DescribeInstances", nonce=42, timestamp=now - 1)

    assert (first["code"], second["code"]) == (0, 0)


def test_missing_region_answers_4000(client: Client) -> None:
    wire = client.signed("DescribeInstances")
    del wire["Region"]
    wire["Signature"] = sign(client.secret_key, "POST", "cvm.api.qcloud.com", wire)

    body = client.send(wire)

    assert body["code"] == 4000
    assert body["codeDesc"] == "InvalidParameter"


def test_old_short_region_codes_are_understood(client: Client) -> None:
    assert client.call("DescribeInstances", region="gz")["code"] == 0


def test_sha1_signatures_are_accepted(client: Client) -> None:
    wire = client.signed("DescribeInstances")
    wire["SignatureMethod"] = "HmacSHA1"
    wire["Signature"] = sign(client.secret_key, "POST", "cvm.api.qcloud.com", wire)

    assert client.send(wire)["code"] == 0


def test_underscore_list_names_are_read_like_dotted_ones(client: Client) -> None:
    ids = client.run(1)
    wire = client.signed("DescribeInstances", {"instanceIds_0": ids[0]})

    body = client.send(wire)

    assert [item["unInstanceId"] for item in body["instanceSet"]] == ids


def test_unknown_paths_are_404(client: Client) -> None:
    response = requests.get(client.server.url + "/v3/index.php", timeout=10)

    assert response.status_code == 404


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_calls_share_one_keep_alive_connection(client: Client) -> None:
    host, port = client.server.url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    answers = []
    sockets = []
    for _ in range(3):
        body = urlencode(client.signed("DescribeInstances"))
        connection.request("POST", "/cvm/v2/index.php", body=body, headers=FORM)
        response = connection.getresponse()
        answers.append(json.loads(response.read()))
        sockets.append(connection.sock)

    assert [answer["code"] for answer in answers] == [0, 0, 0]
    assert response.version == 11 and response.getheader("Connection") != "close"
    assert sockets[0] is not None and sockets == [sockets[0]] * 3
    connection.close()
