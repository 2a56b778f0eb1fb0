"""``CvmApi`` passwords, reinstalls, projects and key pairs, on the wire."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.cvm import CreatedKeyPair, CvmApi, InstanceView, KeyPairView
from reconciler.cloud.errors import PermanentApiError, TransientApiError
from reconciler.cloud.redact import MASK, redact_text
from reconciler.cloud.testing import ScriptedServer, Seen

PASSWORD = "Reset-Pa55word-xyz"


@pytest.fixture
def cvm(client: LegacyClient) -> CvmApi:
    return CvmApi(client)


def key(key_id: str, name: str, *bound: str) -> dict[str, Any]:
    return {
        "keyId": key_id,
        "keyName": name,
        "pubkey": f"ssh-rsa AAAA {name}",
        "status": 0,
        "bindUnInstanceIds": list(bound),
        "bindIps": [],
        "createTime": "2024-01-01 00:00:00",
    }


def keys_answer(*items: dict[str, Any], total: int | None = None) -> dict[str, Any]:
    count = len(items) if total is None else total
    return {"code": 0, "data": {"totalCount": count, "sshSet": list(items)}}


# -- passwords and reinstalls ------------------------------------------------


@pytest.mark.parametrize(("force", "flag"), [(False, "0"), (True, "1")])
def test_reset_password_is_a_batch_with_the_power_off_flag(
    server: ScriptedServer, cvm: CvmApi, force: bool, flag: str
) -> None:
    server.answer({"code": 0, "detail": {"ins-1": {"code": 0, "requestId": 5}}})

    result = cvm.reset_instance_password(["ins-1"], PASSWORD, force=force)

    assert result.task_ids == {"ins-1": 5}
    form = server.requests[0].form
    assert form["Action"] == "ResetInstancePassword"
    assert form["password"] == PASSWORD
    assert form["hardPowerOffFlag"] == flag
    assert form["instanceIds.0"] == "ins-1"


def test_reset_password_never_shows_the_password(
    server: ScriptedServer, cvm: CvmApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"(InvalidPassword) {PASSWORD} is too weak"
    server.answer(
        {
            "code": 5100,
            "message": "x",
            "detail": {"ins-1": {"code": 5100, "message": echo}},
        },
        {"code": 4000, "message": echo},
    )

    result = cvm.reset_instance_password(["ins-1"], PASSWORD)
    with pytest.raises(PermanentApiError) as caught:
        cvm.reset_instance_password(["ins-1"], PASSWORD)

    assert PASSWORD not in result.failed[0].message
    assert PASSWORD not in str(caught.value)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert PASSWORD not in logged
    assert MASK in logged


def test_reset_instance_sends_image_with_its_type_and_returns_the_task(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer({"code": 0, "requestId": "77"})

    task = cvm.reset_instance("ins-1", "img-debian12", "Another-Pa55word")

    assert task == 77
    form = server.requests[0].form
    assert form["Action"] == "ResetInstances"
    assert form["instanceId"] == "ins-1"
    assert (form["imageId"], form["imageType"]) == ("img-debian12", "2")
    assert form["password"] == "Another-Pa55word"
    assert redact_text("Another-Pa55word") == MASK
    assert "hardPowerOffFlag" not in form


def test_reset_instance_without_image_or_password_sends_neither(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer({"code": 0})

    assert cvm.reset_instance("ins-1", None, force=True) is None

    form = server.requests[0].form
    assert not {"imageId", "imageType", "password"} & set(form)
    assert form["hardPowerOffFlag"] == "1"


def test_modify_instance_project(server: ScriptedServer, cvm: CvmApi) -> None:
    cvm.modify_instance_project("ins-1", 1002)

    form = server.requests[0].form
    assert (form["Action"], form["instanceId"], form["projectId"]) == (
        "ModifyInstanceProject",
        "ins-1",
        "1002",
    )


# -- key bindings ------------------------------------------------------------


def test_bind_key_with_a_plain_answer_succeeds_for_every_id(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    result = cvm.bind_instance_key(["ins-1", "ins-2"], "skey-1")

    assert result.succeeded == ["ins-1", "ins-2"]
    form = server.requests[0].form
    assert form["Action"] == "BindInstanceKey"
    assert form["keyId"] == "skey-1"
    assert [form["instanceIds.0"], form["instanceIds.1"]] == ["ins-1", "ins-2"]


def test_unbind_key_with_detail_is_read_per_id(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    detail = {"ins-1": {"code": 0}, "ins-2": {"code": 5100, "message": "running"}}
    server.answer({"code": 5400, "message": "partly", "detail": detail})

    result = cvm.unbind_instance_key(["ins-1", "ins-2"], "skey-1")

    assert server.requests[0].form["Action"] == "UnBindInstanceKey"
    assert result.succeeded == ["ins-1"]
    assert [(item.resource_id, item.code) for item in result.failed] == [
        ("ins-2", 5100)
    ]


def test_bind_key_refused_as_a_whole_is_raised(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer({"code": 5100, "message": "(EC_CVM_STATUS_ERROR) not stopped"})

    with pytest.raises(TransientApiError) as caught:
        cvm.bind_instance_key(["ins-1"], "skey-1")

    assert caught.value.code == 5100
    assert caught.value.resource_ids == ("ins-1",)


# -- key pairs ---------------------------------------------------------------


def test_create_key_pair_returns_the_private_key_once_and_hides_it(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    secret = "-----BEGIN RSA PRIVATE KEY-----\nabc123\n-----END RSA PRIVATE KEY-----"
    data = {
        "keyId": "skey-1",
        "keyName": "ops",
        "pubkey": "ssh-rsa A",
        "secretkey": secret,
    }
    server.answer({"code": 0, "data": data})

    created = cvm.create_key_pair("ops")

    assert created == CreatedKeyPair("skey-1", "ops", "ssh-rsa A", secret)
    assert secret not in repr(created)
    assert redact_text(f"key: {secret}") == f"key: {MASK}"
    assert server.requests[0].form["keyName"] == "ops"


def test_import_key_pair_returns_the_key_id(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer({"code": 0, "data": {"keyId": "skey-9"}})

    assert cvm.import_key_pair("ops", "ssh-ed25519 AAAAC3 me") == "skey-9"

    form = server.requests[0].form
    assert (form["Action"], form["keyName"], form["pubKey"]) == (
        "ImportKeyPair",
        "ops",
        "ssh-ed25519 AAAAC3 me",
    )


def test_describe_key_pairs_pages_through_data_sshset(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    page = [key(f"skey-{n:08d}", f"k{n}") for n in range(100)]
    server.answer(
        keys_answer(*page, total=101), keys_answer(key("skey-x", "x"), total=101)
    )

    views = cvm.describe_key_pairs()

    assert len(views) == 101
    assert [seen.form["offset"] for seen in server.requests] == ["0", "100"]
    assert "keyName" not in server.requests[0].form


def test_describe_key_pairs_by_name_keeps_exact_matches(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer(keys_answer(key("skey-1", "ops"), key("skey-2", "ops_old")))

    [view] = cvm.describe_key_pairs(name="ops")

    assert view == KeyPairView("skey-1", "ops", "ssh-rsa AAAA ops", (), raw={})
    assert server.requests[0].form["keyName"] == "ops"


def test_describe_key_pairs_by_id_costs_one_call_per_100(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    def echo(seen: Seen) -> dict[str, Any]:
        ids = [v for k, v in seen.form.items() if k.startswith("keyIds.")]
        return keys_answer(*(key(i, i) for i in ids))

    server.answer(echo, echo, echo)
    ids = [f"skey-{n:08d}" for n in range(201)]

    views = cvm.describe_key_pairs(ids)

    assert [view.key_id for view in views] == ids
    assert len(server.requests) == 3
    assert cvm.describe_key_pairs([]) == []
    assert len(server.requests) == 3


def test_modify_and_delete_key_pairs(server: ScriptedServer, cvm: CvmApi) -> None:
    detail = {"skey-2": {"code": 5100, "message": "(InvalidKeyPair.InUse) bound"}}
    server.answer(
        {"code": 0},
        {"code": 5400, "message": "x", "detail": {**detail, "skey-1": {"code": 0}}},
    )

    cvm.modify_key_pair("skey-1", "renamed")
    result = cvm.delete_key_pairs(["skey-1", "skey-2"])

    rename, delete = (seen.form for seen in server.requests)
    assert (rename["Action"], rename["keyId"], rename["keyName"]) == (
        "ModifyKeyPair",
        "skey-1",
        "renamed",
    )
    assert delete["Action"] == "DeleteKeyPair"
    assert [delete["keyIds.0"], delete["keyIds.1"]] == ["skey-1", "skey-2"]
    assert result.succeeded == ["skey-1"]
    assert result.failed[0].resource_id == "skey-2"


# -- key ids on instance views -------------------------------------------------


def instance(instance_id: str, **extra: Any) -> dict[str, Any]:
    return {"unInstanceId": instance_id, "status": 4, "zoneId": 100003, **extra}


def test_instance_view_reads_key_ids_and_project_when_shown() -> None:
    shown = InstanceView.from_api(instance("ins-1", keyIds=["skey-1"], projectId=7))
    silent = InstanceView.from_api(instance("ins-2"))

    assert (shown.key_ids, shown.project_id) == (("skey-1",), 7)
    assert (silent.key_ids, silent.project_id) == (None, 0)


def test_with_key_ids_reads_bindings_from_the_key_pairs(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    server.answer(keys_answer(key("skey-1", "a", "ins-1"), key("skey-2", "b")))
    views = [InstanceView.from_api(instance(i)) for i in ("ins-1", "ins-2")]

    filled = cvm.with_key_ids(views)

    assert [view.key_ids for view in filled] == [("skey-1",), ()]
    assert server.requests[0].form["Action"] == "DescribeKeyPairs"


def test_with_key_ids_costs_nothing_when_the_views_know(
    server: ScriptedServer, cvm: CvmApi
) -> None:
    views = [InstanceView.from_api(instance("ins-1", keyIds=[]))]

    assert cvm.with_key_ids(views) == views
    assert server.requests == []
