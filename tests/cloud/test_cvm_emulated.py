"""``CvmApi`` against the emulator: passwords, reinstalls, projects, key pairs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reconciler.cloud.client import LegacyClient
from reconciler.cloud.cvm import CvmApi, InstanceView
from reconciler.cloud.errors import TransientApiError

CONFIG = {
    "zone": "ap-guangzhou-3",
    "image": "img-ubuntu22",
    "cpu": 1,
    "memory": 1,
    "disk": 50,
}
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3 ops@example"

Eventually = Callable[..., Any]


@pytest.fixture
def cvm(emulated: LegacyClient) -> CvmApi:
    return CvmApi(emulated)


def settle(
    cvm: CvmApi, eventually: Eventually, ids: list[str], status: int
) -> list[InstanceView]:
    views: list[InstanceView] = eventually(
        lambda: cvm.describe_instances(ids),
        lambda views: len(views) == len(ids) and all(v.status == status for v in views),
    )
    return views


def running(cvm: CvmApi, eventually: Eventually, count: int) -> list[str]:
    ids = cvm.run_instances_hour(CONFIG, count, "app", f"token-{count}")
    settle(cvm, eventually, ids, 2)
    return ids


def stopped(cvm: CvmApi, eventually: Eventually, count: int) -> list[str]:
    ids = running(cvm, eventually, count)
    assert cvm.stop_instances(ids).succeeded == ids
    settle(cvm, eventually, ids, 4)
    return ids


def test_password_reset_needs_stopped_instances_unless_forced(
    cvm: CvmApi, eventually: Eventually
) -> None:
    ids = running(cvm, eventually, 2)

    refused = cvm.reset_instance_password(ids[:1], "Secret-pa55word")
    forced = cvm.reset_instance_password(ids, "Secret-pa55word", force=True)

    assert [item.code for item in refused.failed] == [5100]
    assert forced.succeeded == ids
    assert set(forced.task_ids) == set(ids)
    settle(cvm, eventually, ids, 2)


def test_reinstall_changes_the_image_and_returns_to_the_old_status(
    cvm: CvmApi, eventually: Eventually
) -> None:
    [instance_id] = stopped(cvm, eventually, 1)

    task = cvm.reset_instance(instance_id, "img-debian12", "Fresh-pa55word")

    assert isinstance(task, int)
    [view] = settle(cvm, eventually, [instance_id], 4)
    assert view.image == "img-debian12"


def test_project_change_shows_in_the_view(cvm: CvmApi, eventually: Eventually) -> None:
    [instance_id] = running(cvm, eventually, 1)

    cvm.modify_instance_project(instance_id, 1003)

    [view] = cvm.describe_instances([instance_id])
    assert view.project_id == 1003


def test_key_pair_lifecycle_with_bindings(cvm: CvmApi, eventually: Eventually) -> None:
    ids = stopped(cvm, eventually, 2)
    imported = cvm.import_key_pair("ops", PUBLIC_KEY)
    created = cvm.create_key_pair("ci")

    # Bind, then see the binding from both sides.
    assert cvm.bind_instance_key(ids, imported).succeeded == ids
    views = cvm.with_key_ids(settle(cvm, eventually, ids, 4))
    assert [view.key_ids for view in views] == [(imported,), (imported,)]
    [ops] = cvm.describe_key_pairs(name="ops")
    assert (ops.key_id, ops.public_key) == (imported, PUBLIC_KEY)
    assert sorted(ops.instance_ids) == sorted(ids)

    # A bound key cannot be deleted; the free one can, in the same call.
    result = cvm.delete_key_pairs([imported, created.key_id])
    assert result.succeeded == [created.key_id]
    assert [item.code for item in result.failed] == [5100]

    cvm.unbind_instance_key(ids, imported)
    settle(cvm, eventually, ids, 4)
    cvm.modify_key_pair(imported, "ops_old")
    assert [key.name for key in cvm.describe_key_pairs([imported])] == ["ops_old"]
    assert cvm.delete_key_pairs([imported]).succeeded == [imported]
    assert cvm.describe_key_pairs() == []


def test_binding_a_key_to_a_running_instance_is_refused_as_a_whole(
    cvm: CvmApi, eventually: Eventually
) -> None:
    ids = running(cvm, eventually, 1)
    key_id = cvm.import_key_pair("ops", PUBLIC_KEY)

    with pytest.raises(TransientApiError) as caught:
        cvm.bind_instance_key(ids, key_id)

    assert caught.value.code == 5100
