"""Availability zones: the legacy API speaks numeric ``zoneId``, users names.

The legacy CVM actions take and return a numeric ``zoneId`` (e.g. 100003)
beside the ``zoneName``; manifests use the names users know
(``ap-guangzhou-3``). The numbering is region base + zone index.
"""

from __future__ import annotations

REGION_ZONE_BASE = {
    "ap-guangzhou": 100000,
    "ap-shanghai": 200000,
    "ap-hongkong": 300000,
    "na-toronto": 400000,
    "ap-shanghai-fsi": 700000,
    "ap-beijing": 800000,
    "ap-singapore": 900000,
    "ap-shenzhen-fsi": 110000,
    "ap-guangzhou-open": 120000,
    "na-siliconvalley": 150000,
    "ap-chengdu": 160000,
    "eu-frankfurt": 170000,
    "ap-seoul": 180000,
    "ap-chongqing": 190000,
    "ap-mumbai": 210000,
    "na-ashburn": 220000,
    "ap-bangkok": 230000,
    "eu-moscow": 240000,
    "ap-tokyo": 250000,
    "ap-nanjing": 330000,
}


def zone_region(zone: str) -> str:
    """``ap-guangzhou-3`` -> ``ap-guangzhou``."""
    region, _, _ = zone.rpartition("-")
    return region


def zone_id(zone: str) -> int:
    """Numeric id of a zone name; raise KeyError for an unknown region."""
    region, _, index = zone.rpartition("-")
    if region not in REGION_ZONE_BASE or not index.isdigit():
        raise KeyError(zone)
    return REGION_ZONE_BASE[region] + int(index)


def zone_name(numeric_id: int) -> str:
    """Zone name of a numeric id; raise KeyError when no region matches."""
    base, index = divmod(numeric_id, 10000)
    for region, region_base in REGION_ZONE_BASE.items():
        if region_base == base * 10000 and index > 0:
            return f"{region}-{index}"
    raise KeyError(numeric_id)


def zone_label(numeric: object) -> str:
    """The zone name of a numeric id as answers give it (int or string).

    Falls back to the number itself for a region this table does not know,
    and to "" when there is no zone at all.
    """
    try:
        number = int(str(numeric))
    except ValueError:
        return ""
    try:
        return zone_name(number)
    except KeyError:
        return str(number)
