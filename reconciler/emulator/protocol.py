"""Wire conventions of the legacy API: error codes, envelopes, parameters.

The action handlers raise ``ApiError`` and read their parameters through
``Params``, which understands the dotted list syntax of legacy-api.md
section 3 (``instanceIds.0``, ``backends.1.weight``) with any non-negative
indexes, ordered numerically.
"""

from __future__ import annotations

import builtins
import functools
import re
import time
from collections.abc import Mapping
from typing import Any

# codeDesc per legacy-api.md section 6.
CODE_DESC: dict[int, str] = {
    0: "Success",
    4000: "InvalidParameter",
    4100: "AuthFailure",
    4101: "UnauthorizedOperation",
    4200: "RequestExpired",
    4300: "Forbidden",
    4400: "LimitExceeded",
    4500: "ReplayAttack",
    4600: "UnsupportedProtocol",
    5000: "ResourceNotFound",
    5100: "OperationFailed",
    5200: "ResourceInsufficient",
    5300: "InsufficientBalance",
    5400: "PartialSuccess",
    6000: "InternalError",
    6100: "ActionNotFound",
    6200: "ServiceUnavailable",
}

# Old short region codes still seen in documentation examples (section 2).
REGION_ALIASES = {
    "gz": "ap-guangzhou",
    "sh": "ap-shanghai",
    "bj": "ap-beijing",
    "hk": "ap-hongkong",
    "ca": "na-toronto",
    "sg": "ap-singapore",
    "cd": "ap-chengdu",
    "cq": "ap-chongqing",
    "shjr": "ap-shanghai-fsi",
    "szjr": "ap-shenzhen-fsi",
    "usw": "na-siliconvalley",
    "de": "eu-frankfurt",
    "kr": "ap-seoul",
    "in": "ap-mumbai",
    "use": "na-ashburn",
    "th": "ap-bangkok",
    "ru": "eu-moscow",
    "jp": "ap-tokyo",
}
SHORT_REGION = {region: short for short, region in REGION_ALIASES.items()}

MAX_IDS_PER_CALL = 100
_LIST_KEY = re.compile(r"^(.+?)\.(\d+)(?:\.(.*))?$")


class ApiError(Exception):
    """An error answer for the whole call: ``{"code", "message", "codeDesc"}``."""

    def __init__(self, code: int, message: str, code_desc: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.code_desc = code_desc or CODE_DESC.get(code, "Error")

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "codeDesc": self.code_desc}


def invalid(message: str, code_desc: str = "InvalidParameter") -> ApiError:
    return ApiError(4000, message, code_desc)


def not_found(message: str, code_desc: str = "ResourceNotFound") -> ApiError:
    return ApiError(5000, message, code_desc)


def success(**fields: Any) -> dict[str, Any]:
    return {"code": 0, "message": "", "codeDesc": "Success", **fields}


def batch_body(detail: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Batch answer: outer 0 / 5100 (all failed) / 5400 (some failed)."""
    failed = sum(1 for item in detail.values() if item["code"] != 0)
    if failed == 0:
        return {**success(), "detail": detail}
    if failed == len(detail):
        code, message = 5100, "all operations failed"
    else:
        code, message = 5400, "some operations failed"
    return {
        "code": code,
        "message": message,
        "codeDesc": CODE_DESC[code],
        "detail": detail,
    }


def format_time(epoch: float | None) -> str:
    if epoch is None:
        return "0000-00-00 00:00:00"
    return _format_second(int(epoch))


@functools.lru_cache(maxsize=4096)
def _format_second(second: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))


class Params:
    """Decoded request parameters with typed, validating accessors.

    Names are normalised the way the signature treats them (``_`` -> ``.``),
    so ``instanceIds_0`` and ``instanceIds.0`` are the same parameter.
    """

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = {name.replace("_", "."): value for name, value in raw.items()}

        # Index ``name.N[.rest]`` once, so list reads do not rescan every key.
        self._groups: dict[str, list[tuple[int, str | None, str]]] = {}
        for key, value in self.raw.items():
            if "." in key:
                self._index(key, value)
        for items in self._groups.values():
            items.sort(key=lambda item: item[0])

    def _index(self, key: str, value: str) -> None:
        # The common ``name.N`` and ``name.N.field`` shapes without the regex,
        # which is kept for the rest (dotted names, non-ASCII digits).
        prefix, _, tail = key.partition(".")
        index, dot, rest = tail.partition(".")
        if not (prefix and index.isascii() and index.isdigit()):
            match = _LIST_KEY.match(key)
            if match is None:
                return
            prefix, index, rest = match.groups()
            dot = "." if rest is not None else ""
        item = (int(index), rest if dot else None, value)
        self._groups.setdefault(prefix, []).append(item)

    def __contains__(self, name: str) -> bool:
        return name in self.raw

    # The accessors are named after the types they return, so inside this
    # class the annotations spell the builtins out.

    def str(
        self,
        name: builtins.str,
        default: builtins.str | None = None,
        *,
        required: bool = False,
        max_len: builtins.int | None = None,
    ) -> builtins.str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise invalid(f"(100001) missing parameter {name}")
            return default
        if max_len is not None and len(value) > max_len:
            raise invalid(f"(100004) {name} is longer than {max_len} characters")
        return value

    def req(
        self, name: builtins.str, *, max_len: builtins.int | None = None
    ) -> builtins.str:
        value = self.str(name, required=True, max_len=max_len)
        assert value is not None
        return value

    def int(
        self,
        name: builtins.str,
        default: builtins.int | None = None,
        *,
        required: bool = False,
        low: builtins.int | None = None,
        high: builtins.int | None = None,
    ) -> builtins.int | None:
        text = self.str(name, required=required)
        if text is None:
            return default
        try:
            value = int(text)
        except ValueError:
            raise invalid(f"(100004) {name} must be an integer") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise invalid(f"(100004) {name}={value} is out of range [{low}, {high}]")
        return value

    def req_int(
        self,
        name: builtins.str,
        *,
        low: builtins.int | None = None,
        high: builtins.int | None = None,
    ) -> builtins.int:
        value = self.int(name, required=True, low=low, high=high)
        assert value is not None
        return value

    def list(
        self, name: builtins.str, *, limit: builtins.int = MAX_IDS_PER_CALL
    ) -> builtins.list[builtins.str]:
        """``name.N`` values ordered by N; at most ``limit`` of them."""
        items = self._indexed(name)
        values = [value for _, rest, value in items if rest is None]
        if len(values) > limit:
            raise invalid(f"(100004) at most {limit} values of {name} per call")
        return values

    def objects(
        self, name: builtins.str, *, limit: builtins.int = MAX_IDS_PER_CALL
    ) -> builtins.list[dict[builtins.str, builtins.str]]:
        """``name.N.field`` values grouped into one mapping per N."""
        grouped: dict[int, dict[str, str]] = {}
        for index, rest, value in self._indexed(name):
            if rest is not None:
                grouped.setdefault(index, {})[rest] = value
        if len(grouped) > limit:
            raise invalid(f"(100004) at most {limit} items of {name} per call")
        return [grouped[index] for index in sorted(grouped)]

    def ids(
        self, name: builtins.str, *, required: bool = True
    ) -> builtins.list[builtins.str]:
        """A batch id list: de-duplicated, bounded, non-empty when required."""
        ids = list(dict.fromkeys(self.list(name)))
        if required and not ids:
            raise invalid(f"(100001) missing parameter {name}.n")
        return ids

    def _indexed(
        self, name: builtins.str
    ) -> builtins.list[tuple[builtins.int, builtins.str | None, builtins.str]]:
        return self._groups.get(name, [])
