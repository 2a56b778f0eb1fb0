"""``EipApi``: parameters sent, answers read, and the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.eip import BOUND, UNBOUND, EipApi, EipView
from reconciler.cloud.errors import TransientApiError, UnknownOutcomeError
from reconciler.cloud.testing import ScriptedServer, Seen

Eventually = Callable[..., Any]


@pytest.fixture
def eips(client: LegacyClient) -> EipApi:
    return EipApi(client)


def eip(eip_id: str, status: int = UNBOUND, instance: str = "") -> dict[str, Any]:
    return {
        "eipId": eip_id,
        "eipName": "",
        "eip": "129.204.0.1",
        "ispId": 5,
        "status": status,
        "unInstanceId": instance,
    }


def test_view_reads_status_instance_and_address() -> None:
    bound = EipView.from_api(eip("eip-1", BOUND, "ins-1"))
    creating = EipView.from_api(eip("eip-2", 0))

    assert bound == EipView("eip-1", "", "129.204.0.1", 2, "ins-1", {}, isp_id=5)
    assert not bound.transitional
    assert (creating.instance_id, creating.transitional) == (None, True)


def test_create_reads_data_eip_ids(server: ScriptedServer, eips: EipApi) -> None:
    server.answer({"code": 0, "data": {"eipIds": ["eip-1", "eip-2"]}})

    assert eips.create_eips(2) == ["eip-1", "eip-2"]
    assert server.requests[0].form["goodsNum"] == "2"
    with pytest.raises(ValueError):
        eips.create_eips(6)


def test_describe_by_ids_costs_one_call_per_100(
    server: ScriptedServer, eips: EipApi
) -> None:
    def echo(seen: Seen) -> dict[str, Any]:
        ids = [v for k, v in seen.form.items() if k.startswith("eipIds.")]
        return {
            "code": 0,
            "totalCount": len(ids),
            "data": {"eipSet": [eip(i) for i in ids]},
        }

    server.answer(echo, echo, echo)
    ids = [f"eip-{n:08d}" for n in range(201)]

    assert [view.eip_id for view in eips.describe_eips(ids)] == ids
    assert len(server.requests) == 3
    assert {seen.form["limit"] for seen in server.requests} == {"100"}


def test_describe_all_pages_with_top_level_total(
    server: ScriptedServer, eips: EipApi
) -> None:
    page = [eip(f"eip-{n}") for n in range(100)]
    server.answer(
        {"code": 0, "totalCount": 100, "data": {"eipSet": page}},
    )

    assert len(eips.describe_eips()) == 100
    assert len(server.requests) == 1


def test_bind_unbind_rename_send_their_parameters(
    server: ScriptedServer, eips: EipApi
) -> None:
    eips.bind("eip-1", "ins-1")
    eips.unbind("eip-1")
    eips.modify_name("eip-1", "front")

    bind, unbind, rename = (seen.form for seen in server.requests)
    assert (bind["Action"], bind["eipId"], bind["unInstanceId"]) == (
        "EipBindInstance",
        "eip-1",
        "ins-1",
    )
    assert (unbind["Action"], unbind["allocWanIp"]) == ("EipUnBindInstance", "0")
    assert (rename["Action"], rename["eipName"]) == ("ModifyEipAttributes", "front")


def test_delete_reads_plain_and_detailed_answers(
    server: ScriptedServer, eips: EipApi
) -> None:
    detail = {"eip-1": {"code": 0}, "eip-2": {"code": 5100, "message": "bound"}}
    server.answer({"code": 0}, {"code": 5400, "message": "x", "detail": detail})

    plain = eips.delete_eips(["eip-1", "eip-2"])
    mixed = eips.delete_eips(["eip-1", "eip-2"])

    assert plain.succeeded == ["eip-1", "eip-2"]
    assert mixed.succeeded == ["eip-1"]
    assert [item.code for item in mixed.failed] == [5100]
    assert eips.delete_eips([]).items == {}
    assert len(server.requests) == 2


# -- against the emulator ------------------------------------------------------


def settled(eips: EipApi, eventually: Eventually, ids: list[str]) -> list[EipView]:
    views: list[EipView] = eventually(
        lambda: eips.describe_eips(ids),
        lambda views: len(views) == len(ids) and not any(v.transitional for v in views),
    )
    return views


def test_eip_lifecycle(emulated: LegacyClient, eventually: Eventually) -> None:
    eips, cvm = EipApi(emulated), CvmApi(emulated)
    config = {
        "zone": "ap-guangzhou-3",
        "image": "img-ubuntu22",
        "cpu": 1,
        "memory": 1,
        "disk": 50,
    }
    [instance] = cvm.run_instances_hour(config, 1, "web", "eip-test")
    eventually(
        lambda: cvm.describe_instances([instance]), lambda v: v and v[0].status == 2
    )

    ids = eips.create_eips(2)
    assert [v.status for v in settled(eips, eventually, ids)] == [UNBOUND, UNBOUND]

    eips.bind(ids[0], instance)
    eips.modify_name(ids[0], "front")
    [bound, free] = settled(eips, eventually, ids)
    assert (bound.status, bound.instance_id, bound.name) == (BOUND, instance, "front")
    [view] = cvm.describe_instances([instance])
    assert view.wan_ips == (bound.address,)
    with pytest.raises(TransientApiError) as caught:
        eips.bind(ids[0], instance)
    assert caught.value.code == 5100

    # A bound EIP cannot be released; the unbound one can, in the same call.
    result = eips.delete_eips(ids)
    assert result.succeeded == [ids[1]]
    assert [item.code for item in result.failed] == [5100]

    eips.unbind(ids[0])
    [unbound] = settled(eips, eventually, ids[:1])
    assert (unbound.status, unbound.instance_id) == (UNBOUND, None)
    assert eips.delete_eips(ids[:1]).succeeded == ids[:1]
    assert eips.describe_eips() == []


def test_a_lost_create_answer_is_an_unknown_outcome(
    emulated: LegacyClient, set_faults: Callable[[list[dict[str, Any]]], None]
) -> None:
    eips = EipApi(emulated)
    set_faults(
        [{"action": "CreateEip", "times": 1, "outcome": {"lose_response": True}}]
    )

    with pytest.raises(UnknownOutcomeError):
        eips.create_eips(1)

    # It did happen, and it was not repeated.
    assert len(eips.describe_eips()) == 1
