"""load_manifest and validate_paths: the contract the planner and CLI use."""

from __future__ import annotations

import hashlib

import pytest

from reconciler.diagnostics import DiagnosticError
from reconciler.manifest import load_manifest, validate_paths
from reconciler.model.address import Address

INSTANCE_KEYS = {"name", "zone", "image", "cpu", "memory", "disk", "bandwidth", "state"}


def test_quickstart_gives_three_instances_with_defaults_applied(kit, write):
    path = write(kit.quickstart)

    manifest = load_manifest([path])

    assert [str(r.address) for r in manifest.resources] == [
        "instance.web-0",
        "instance.web-1",
        "instance.worker",
    ]
    worker = manifest.resources[2]
    assert dict(worker.attributes) == {
        "name": "worker",
        "zone": "ap-guangzhou-3",
        "image": "img-ubuntu22",
        "cpu": 1,
        "memory": 2,
        "disk": 50,
        "bandwidth": 0,
        "state": "stopped",
    }
    assert all(set(r.attributes) == INSTANCE_KEYS for r in manifest.resources)
    assert manifest.provider_region == "ap-guangzhou"
    assert manifest.provider_endpoint == "local"
    assert manifest.warnings == []


def test_resource_position_is_where_its_key_is_written(kit, write):
    path = write(kit.quickstart)

    manifest = load_manifest([path])

    assert [str(r.position) for r in manifest.resources] == [
        f"{path}:6:3",
        f"{path}:7:3",
        f"{path}:8:3",
    ]


def test_base_dir_is_the_file_directory_or_the_directory_given(kit, write, tmp_path):
    path = write(kit.quickstart, "conf/site.yaml")

    assert load_manifest([path]).base_dir == tmp_path / "conf"
    assert load_manifest([tmp_path / "conf"]).base_dir == tmp_path / "conf"


def test_digest_is_sha256_over_the_sources_and_follows_edits(kit, write):
    path = write(kit.quickstart)
    first = load_manifest([path]).digest

    path.write_text(kit.quickstart + "  extra: {}\n", encoding="utf-8")

    assert len(first) == len(hashlib.sha256().hexdigest())
    assert load_manifest([path]).digest != first


def test_count_expands_into_numbered_copies(kit, write):
    path = write(kit.header + "instances:\n  web: {count: 3, bandwidth: 10}\n")

    manifest = load_manifest([path])

    assert [r.address for r in manifest.resources] == [
        Address("instance", f"web-{i}") for i in range(3)
    ]
    assert [r.attributes["name"] for r in manifest.resources] == [
        "web-0",
        "web-1",
        "web-2",
    ]
    assert all(r.attributes["bandwidth"] == 10 for r in manifest.resources)


def test_count_zero_gives_no_resources(kit, write):
    path = write(kit.header + "instances:\n  web: {count: 0}\n")

    assert load_manifest([path]).resources == []


def test_name_overrides_key_and_index_numbers_copies(kit, write):
    path = write(
        kit.header + "instances:\n"
        "  db: {name: primary-db}\n"
        "  web: {count: 2, name: 'front-{index}'}\n"
    )

    names = {
        str(r.address): r.attributes["name"] for r in load_manifest([path]).resources
    }

    assert names == {
        "instance.db": "primary-db",
        "instance.web-0": "front-0",
        "instance.web-1": "front-1",
    }


def test_instance_values_override_defaults(kit, write):
    path = write(kit.header + "instances:\n  big: {cpu: 8, memory: 32, disk: 100}\n")

    [big] = load_manifest([path]).resources

    assert (big.attributes["cpu"], big.attributes["memory"]) == (8, 32)
    assert big.attributes["disk"] == 100


def test_missing_required_attributes_are_reported_at_the_instance(kit, write):
    path = write(
        """\
        version: 1
        instances:
          web: {zone: ap-guangzhou-3}
        """
    )

    [error] = kit.errors(path)

    assert kit.where(error) == (3, 3)
    assert error.summary == "Missing required attribute"
    assert "'image', 'cpu' or 'memory'" in error.detail
    assert "defaults.instance" in error.detail


def test_load_manifest_raises_every_error_sorted_by_position(kit, write):
    path = write(
        kit.header + "instances:\n"
        "  b: {cpu: 0}\n"
        "  a: {state: paused}\n"
        "  c: {colour: red}\n"
    )

    with pytest.raises(DiagnosticError) as raised:
        load_manifest([path])

    lines = [kit.where(d)[0] for d in raised.value.diagnostics]
    assert lines == [6, 7, 8]
    assert str(raised.value).startswith(f"{path}:6:")


def test_validate_paths_returns_nothing_for_a_valid_manifest(kit, write):
    assert validate_paths([write(kit.quickstart)]) == []


def test_zone_outside_the_provider_region_is_an_error(kit, write):
    path = write(kit.header + "instances:\n  far: {zone: ap-shanghai-2}\n")

    [error] = kit.errors(path)

    assert error.summary == "Zone outside the region"
    assert kit.where(error) == (6, 15)


def test_zone_in_defaults_outside_the_region_points_at_the_defaults(kit, write):
    path = write(
        """\
        version: 1
        provider: {region: ap-shanghai}
        defaults:
          instance: {zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}
        instances:
          a: {}
          b: {}
        """
    )

    [error] = kit.errors(path)

    assert kit.where(error) == (4, 20)


def test_a_count_copy_that_collides_with_a_key_is_a_duplicate(kit, write):
    path = write(kit.header + "instances:\n  web: {count: 2}\n  web-1: {}\n")

    [error] = kit.errors(path)

    assert error.summary == "Duplicate resource"
    assert kit.where(error) == (7, 3)
    assert error.address == "instance.web-1"


def test_copy_names_longer_than_60_characters_are_refused(kit, write):
    key = "w" * 59
    path = write(kit.header + f"instances:\n  {key}: {{count: 11}}\n")

    [error] = kit.errors(path)

    assert error.summary == "Name too long"


def test_a_directory_merges_its_yaml_files(kit, write, tmp_path):
    write(kit.header, "site/00-base.yaml")
    write("instances:\n  a: {}\n", "site/a.yaml")
    write("version: 1\ninstances:\n  b: {}\n", "site/b.yml")
    write("not: yaml manifest", "site/notes.txt")

    manifest = load_manifest([tmp_path / "site"])

    assert [r.address.name for r in manifest.resources] == ["a", "b"]


def test_the_same_resource_in_two_files_is_an_error_at_the_second(kit, write, tmp_path):
    write(kit.header + "instances:\n  a: {}\n", "site/one.yaml")
    second = write("instances:\n  a: {cpu: 2}\n", "site/two.yaml")

    [error] = kit.errors(tmp_path / "site")

    assert error.summary == "Defined in two files"
    assert error.position is not None
    assert (error.position.path, kit.where(error)) == (str(second), (2, 3))


def test_a_missing_path_is_a_diagnostic_not_a_traceback(tmp_path):
    [error] = validate_paths([tmp_path / "nope.yaml"])

    assert error.summary == "Manifest not found"


def test_an_empty_directory_is_a_diagnostic(tmp_path):
    [error] = validate_paths([tmp_path])

    assert error.summary == "No manifest files"


def test_an_empty_file_is_missing_its_version(kit, write):
    path = write("")

    [error] = kit.errors(path)

    assert error.summary == "Missing required attribute"
    assert kit.where(error) == (1, 1)
