"""Every kind's attributes, references, secrets and lifecycle in the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifest import Lifecycle, load_manifest
from reconciler.model.address import Address

DATA = Path(__file__).parent / "data"


@pytest.fixture
def web_tier(monkeypatch):
    monkeypatch.setenv("WEB_PASSWORD", "s3cret-Pass")
    manifest = load_manifest([DATA / "web-tier.yaml"])
    return manifest, {str(r.address): r for r in manifest.resources}


def test_the_web_tier_example_has_every_kind(web_tier):
    _, resources = web_tier

    assert sorted(resources) == [
        "eip.edge",
        "instance.db",
        "instance.web-0",
        "instance.web-1",
        "instance.web-2",
        "keyPair.deploy",
        "loadBalancer.front",
        "subnet.app",
        "subnet.data",
        "vpc.main",
    ]


def test_attributes_per_kind(web_tier):
    _, resources = web_tier

    assert dict(resources["vpc.main"].attributes) == {
        "name": "main",
        "cidr": "10.0.0.0/16",
    }
    assert dict(resources["subnet.app"].attributes) == {
        "name": "app",
        "vpc": "main",
        "cidr": "10.0.1.0/24",
        "zone": "ap-guangzhou-3",
    }
    assert set(resources["keyPair.deploy"].attributes) == {"name", "publicKey"}
    assert dict(resources["eip.edge"].attributes) == {
        "name": "edge",
        "instance": "web-0",
    }
    assert dict(resources["loadBalancer.front"].attributes) == {
        "name": "front",
        "type": "public",
        "vpc": "main",
        "listeners": [{"port": 80, "protocol": "http", "instancePort": 8080}],
        "backends": [
            {"instance": "web-0", "weight": 10},
            {"instance": "web-1", "weight": 10},
            {"instance": "web-2", "weight": 10},
        ],
    }


def test_an_instance_in_a_subnet_with_a_key_and_a_secret_password(web_tier):
    _, resources = web_tier
    web = resources["instance.web-1"]

    assert web.attributes["subnet"] == "app"
    assert web.attributes["keyPair"] == "deploy"
    assert web.attributes["password"] == "s3cret-Pass"
    assert web.sensitive == frozenset({"password"})


def test_optional_instance_attributes_are_absent_when_not_set(web_tier):
    _, resources = web_tier

    assert "keyPair" not in resources["instance.db"].attributes
    assert "password" not in resources["instance.db"].attributes


def test_lifecycle_applies_to_every_copy_of_a_group(web_tier):
    manifest, _ = web_tier

    expected = Lifecycle(prevent_destroy=True, ignore_changes=frozenset({"bandwidth"}))
    assert manifest.lifecycle_of(Address("instance", "web-2")) == expected
    assert manifest.lifecycle_of(Address("instance", "db")) == Lifecycle()


def test_dependencies_follow_references_and_depends_on(web_tier):
    manifest, _ = web_tier
    deps = {str(a): sorted(map(str, d)) for a, d in manifest.dependencies.items()}

    assert deps["vpc.main"] == []
    assert deps["subnet.app"] == ["vpc.main"]
    assert deps["instance.web-0"] == ["keyPair.deploy", "subnet.app"]
    assert deps["instance.db"] == ["instance.web-0", "subnet.data"]
    assert deps["eip.edge"] == ["instance.web-0"]
    assert deps["loadBalancer.front"] == [
        "instance.web-0",
        "instance.web-1",
        "instance.web-2",
        "vpc.main",
    ]


def test_a_password_from_a_file_is_read_relative_to_the_manifest(kit):
    kit.write("hunter2-Secret\n", "secrets/pw")
    path = kit.write(
        kit.header + "instances:\n  a: {password: {fromFile: secrets/pw}}\n"
    )

    [instance] = load_manifest([path]).resources

    assert instance.attributes["password"] == "hunter2-Secret"
    assert instance.sensitive == frozenset({"password"})


def test_a_public_key_can_come_from_a_file(kit):
    kit.write("ssh-ed25519 AAAAC3Nza me@host\n", "id.pub")
    path = kit.write(
        "version: 1\nkeyPairs:\n  me: {name: me_key, publicKey: {fromFile: id.pub}}\n"
    )

    [key] = load_manifest([path]).resources

    assert dict(key.attributes) == {
        "name": "me_key",
        "publicKey": "ssh-ed25519 AAAAC3Nza me@host",
    }


def test_subnet_zone_comes_from_defaults(kit):
    path = kit.write(
        """\
        version: 1
        defaults: {subnet: {zone: ap-guangzhou-4}}
        vpcs: {main: {cidr: 10.0.0.0/16}}
        subnets: {a: {vpc: main, cidr: 10.0.1.0/24}}
        """
    )

    subnet = next(
        r for r in load_manifest([path]).resources if r.address.kind == "subnet"
    )

    assert subnet.attributes["zone"] == "ap-guangzhou-4"


def test_listener_instance_port_defaults_to_its_port(kit):
    path = kit.write(
        "version: 1\nloadBalancers:\n  lb: {listeners: [{port: 443, protocol: tcp}]}\n"
    )

    [balancer] = load_manifest([path]).resources

    assert balancer.attributes["listeners"] == [
        {"port": 443, "protocol": "tcp", "instancePort": 443}
    ]
    assert balancer.attributes["backends"] == []


def test_an_unbound_eip_may_be_empty(kit):
    path = kit.write("version: 1\neips:\n  spare:\n")

    [eip] = load_manifest([path]).resources

    assert dict(eip.attributes) == {"name": "spare"}
