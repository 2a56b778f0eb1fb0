"""Semantic checks: mistakes the schema cannot see, caught before any API call."""

from __future__ import annotations

import pytest

NETWORK = """\
version: 1
provider: {region: ap-guangzhou}
defaults:
  instance: {zone: ap-guangzhou-3, image: img-ubuntu22, cpu: 1, memory: 2}
vpcs:
  main: {cidr: 10.0.0.0/16}
subnets:
  app: {vpc: main, cidr: 10.0.1.0/24, zone: ap-guangzhou-3}
"""


def one_error(kit, text):
    path = kit.write(text)
    found = kit.errors(path)
    assert len(found) == 1, [d.render() for d in found]
    return found[0]


def test_an_unknown_reference_suggests_the_closest_name(kit):
    error = one_error(kit, NETWORK + "instances:\n  a: {subnet: apps}\n")

    assert error.summary == "Unknown reference"
    assert kit.where(error) == (10, 15)
    assert "Did you mean 'app'?" in error.detail


def test_an_unknown_depends_on_address_suggests_the_closest(kit):
    error = one_error(
        kit, NETWORK + "instances:\n  web: {}\n  db: {dependsOn: [instance.wbe]}\n"
    )

    assert error.summary == "Unknown reference"
    assert "'instance.web'" in error.detail


def test_a_reference_to_an_entry_with_schema_errors_is_not_also_unknown(kit):
    path = kit.write(NETWORK + "subnets2: {}\ninstances:\n  a: {subnet: app}\n")
    text = path.read_text().replace("subnets2: {}\n", "")
    text = text.replace("zone: ap-guangzhou-3}\ninstances", "zone: 3}\ninstances")
    path.write_text(text)

    [error] = kit.errors(path)

    assert error.summary == "Value needs quotes"


def test_an_eip_bound_to_a_count_group_names_one_copy(kit):
    error = one_error(
        kit, NETWORK + "instances:\n  web: {count: 2}\neips:\n  ip: {instance: web}\n"
    )

    assert error.summary == "Reference to a count group"
    assert "'web-0'" in error.detail


def test_a_dependency_cycle_is_printed_as_its_path(kit):
    error = one_error(
        kit,
        NETWORK
        + "instances:\n"
        + "  a: {dependsOn: [instance.b]}\n"
        + "  b: {dependsOn: [instance.c]}\n"
        + "  c: {dependsOn: [instance.a]}\n",
    )

    assert error.summary == "Dependency cycle"
    assert "instance.a -> instance.b -> instance.c -> instance.a" in error.detail


def test_a_resource_depending_on_itself_is_a_cycle(kit):
    error = one_error(kit, NETWORK + "instances:\n  a: {dependsOn: [instance.a]}\n")

    assert "instance.a -> instance.a" in error.detail


@pytest.mark.parametrize(
    ("cidr", "fragment"),
    [
        ("10.0.9.0/24", "not inside"),
        ("10.0.1.128/25", "overlaps subnet.app"),
        ("10.0.3.5/24", "Did you mean '10.0.3.0/24'?"),
        ("10.0.3.0/29", "/16 to /28"),
        ("10.0.300.0/24", "not a valid network"),
    ],
)
def test_subnet_networks_must_fit_their_vpc_and_not_overlap(kit, cidr, fragment):
    text = NETWORK.replace("10.0.0.0/16", "10.0.0.0/22")
    error = one_error(
        kit, text + f"  more: {{vpc: main, cidr: {cidr}, zone: ap-guangzhou-3}}\n"
    )

    assert error.summary == "Invalid network"
    assert fragment in error.detail
    assert kit.where(error)[0] == 9


def test_a_vpc_outside_the_private_ranges_is_refused(kit):
    error = one_error(kit, "version: 1\nvpcs:\n  main: {cidr: 8.8.0.0/16}\n")

    assert error.summary == "Invalid network"
    assert "10.0.0.0/16" in error.detail


def test_zones_must_belong_to_the_region(kit):
    error = one_error(
        kit, NETWORK.replace("zone: ap-guangzhou-3}", "zone: ap-beijing-1}")
    )

    assert error.summary == "Zone outside the region"


def test_an_instance_must_be_in_its_subnets_zone(kit):
    error = one_error(
        kit, NETWORK + "instances:\n  a: {subnet: app, zone: ap-guangzhou-4}\n"
    )

    assert error.summary == "Zone differs from the subnet's"


def test_an_unknown_region_is_a_warning_with_a_suggestion(kit):
    path = kit.write("version: 1\nprovider: {region: ap-guangzou}\n")

    [warning] = kit.warnings(path)

    assert warning.summary == "Unknown region"
    assert "'ap-guangzhou'" in warning.detail


def test_load_balancer_backends_must_be_in_its_vpc(kit):
    error = one_error(
        kit,
        NETWORK
        + "instances:\n  classic: {}\n"
        + "loadBalancers:\n  lb: {vpc: main, backends: [{instances: classic}]}\n",
    )

    assert error.summary == "Backend outside the load balancer's network"
    assert kit.where(error) == (12, 42)


def test_a_load_balancer_subnet_must_be_in_its_vpc(kit):
    error = one_error(
        kit,
        "version: 1\n"
        "vpcs:\n  a: {cidr: 10.0.0.0/16}\n  b: {cidr: 172.16.0.0/16}\n"
        "subnets:\n  sb: {vpc: b, cidr: 172.16.1.0/24, zone: ap-guangzhou-3}\n"
        "loadBalancers:\n  lb: {type: private, vpc: a, subnet: sb}\n",
    )

    assert error.summary == "Subnet outside the load balancer's VPC"
    assert kit.where(error) == (8, 39)


def test_a_private_load_balancer_needs_a_vpc(kit):
    error = one_error(kit, "version: 1\nloadBalancers:\n  lb: {type: private}\n")

    assert error.summary == "Private load balancer without a VPC"


def test_two_listeners_on_one_port_conflict(kit):
    error = one_error(
        kit,
        "version: 1\nloadBalancers:\n  lb:\n    listeners:\n"
        "      - {port: 80, protocol: http}\n"
        "      - {port: 80, protocol: tcp}\n"
        "      - {port: 80, protocol: udp}\n",
    )

    assert error.summary == "Listener port used twice"
    assert kit.where(error) == (6, 16)


def test_an_https_listener_needs_a_certificate(kit):
    error = one_error(
        kit,
        "version: 1\nloadBalancers:\n"
        "  lb: {listeners: [{port: 443, protocol: https}]}\n",
    )

    assert error.summary == "HTTPS listener without a certificate"


def test_key_pair_names_are_letters_digits_and_underscores(kit):
    error = one_error(
        kit, "version: 1\nkeyPairs:\n  my-key: {publicKey: ssh-rsa AAAA}\n"
    )

    assert error.summary == "Invalid name"
    assert "name: my_key" in error.detail


def test_vpc_names_must_be_unique(kit):
    error = one_error(
        kit,
        "version: 1\nvpcs:\n"
        "  a: {cidr: 10.0.0.0/16}\n"
        "  b: {name: a, cidr: 172.16.0.0/16}\n",
    )

    assert error.summary == "Name already used"
    assert kit.where(error) == (4, 7)


def test_a_missing_environment_secret_is_named_not_shown(kit, monkeypatch):
    monkeypatch.delenv("NOPE_PASSWORD", raising=False)
    error = one_error(
        kit, NETWORK + "instances:\n  a: {password: {fromEnv: NOPE_PASSWORD}}\n"
    )

    assert error.summary == "Secret source missing"
    assert "NOPE_PASSWORD" in error.detail


def test_a_missing_secret_file_is_an_error(kit):
    error = one_error(kit, NETWORK + "instances:\n  a: {password: {fromFile: nope}}\n")

    assert error.summary == "Secret source missing"


def test_a_secret_value_never_appears_in_diagnostics(kit, monkeypatch):
    monkeypatch.setenv("WEB_PASSWORD", "Do-Not-Print-1")
    path = kit.write(
        NETWORK + "instances:\n  a: {password: {fromEnv: WEB_PASSWORD}, cpu: 99}\n"
    )

    rendered = "\n".join(d.render() for d in kit.errors(path))

    assert "Do-Not-Print-1" not in rendered
