"""``reconciler emulator serve``: its options, documented and in effect."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from reconciler.cli import main
from reconciler.emulator import DEFAULT_DURATIONS, parse_durations

from .conftest import Client


@dataclass
class Running:
    """What ``Client`` needs of a server: its URL."""

    url: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Client, list[str]]]:
    """``emulator serve`` with every option set, in a child process."""
    command = [
        sys.executable, "-m", "reconciler", "emulator", "serve",
        "--port", "0", "--db", str(tmp_path / "cloud.db"),
        "--duration", "RunInstancesHour=0.3", "--duration", "StartInstances=9",
        "--rate-limit", "2", "--timestamp-window", "10",
    ]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        banner = [child.stdout.readline() for _ in range(7)]
        url = banner[0].split()[3]
        yield Client(Running(url)), banner  # type: ignore[arg-type]
    finally:
        child.terminate()
        child.wait(timeout=10)


def test_help_documents_every_option() -> None:
    command = main.commands["emulator"].commands["serve"]  # type: ignore[attr-defined]

    result = CliRunner().invoke(main, ["emulator", "serve", "--help"])

    assert result.exit_code == 0
    for param in command.params:
        assert isinstance(param, click.Option)
        assert param.help, f"{param.name} has no help"
        assert param.opts[0] in result.output
    assert "RunInstancesHour=2" in result.output


@pytest.mark.parametrize(
    "argument, complaint",
    [
        ("RunInstancesHour", "is not ACTION=SECONDS"),
        ("DescribeInstances=1", "is not an asynchronous action"),
        ("StartInstances=soon", "is not a number of seconds"),
        ("StartInstances=-1", "must be zero or more"),
    ],
)
def test_bad_durations_are_refused(argument: str, complaint: str) -> None:
    result = CliRunner().invoke(main, ["emulator", "serve", "--duration", argument])

    assert result.exit_code == 2
    assert complaint in result.output


def test_durations_parse_into_a_mapping() -> None:
    parsed = parse_durations(["RunInstancesHour=2.5", "StopInstances = 0"])

    assert parsed == {"RunInstancesHour": 2.5, "StopInstances": 0.0}
    assert set(parsed) <= set(DEFAULT_DURATIONS)


def test_options_take_effect(served: tuple[Client, list[str]]) -> None:
    client, banner = served

    # The banner says what runs.
    assert "Duration:  RunInstancesHour 0.3s\n" in banner
    assert "Rate limit: 2 calls/s per (SecretId, Action)\n" in banner
    assert "Timestamp window: 10s\n" in banner

    # --timestamp-window: 20 s away is refused, 5 s away is not.
    stale = client.call("DescribeInstances", timestamp=int(time.time()) - 20)
    fresh = client.call("DescribeInstances", timestamp=int(time.time()) - 5)
    assert stale["code"] == 4200 and fresh["code"] == 0

    # --duration: the create settles after 0.3 s, not the default 2 s.
    ids = client.run(1)
    assert client.statuses(ids) == {ids[0]: 3}
    time.sleep(0.6)
    assert client.statuses(ids) == {ids[0]: 2}

    # --rate-limit: a burst of 2 per action, then 4400 with nothing done.
    answers = [_stop_unknown(client) for _ in range(3)]
    assert [answer["code"] for answer in answers] == [5100, 5100, 4400]


def _stop_unknown(client: Client) -> dict[str, Any]:
    return client.call("StopInstances", {"instanceIds": ["ins-00000000"]})
