"""One client per service of an account, over one ``LegacyClient``."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.cloud.clb import ClbApi
from reconciler.cloud.client import LegacyClient
from reconciler.cloud.cvm import CvmApi
from reconciler.cloud.eip import EipApi
from reconciler.cloud.vpc import VpcApi


@dataclass(frozen=True)
class CloudApis:
    cvm: CvmApi
    vpc: VpcApi
    clb: ClbApi
    eip: EipApi

    @classmethod
    def over(cls, client: LegacyClient) -> CloudApis:
        return cls(CvmApi(client), VpcApi(client), ClbApi(client), EipApi(client))
