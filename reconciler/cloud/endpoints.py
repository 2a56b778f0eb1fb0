"""Per-service endpoint overrides from the environment.

Private deployments, proxies and test setups can send one service somewhere
else without code: ``RECONCILER_ENDPOINT_<SERVICE>`` (``CVM``, ``LB``,
``VPC``, ``EIP``, ``IMAGE``, ``ACCOUNT`` ...) holds a base URL or a bare host
(which means HTTPS). ``LegacyClient`` reads these when it is not given an
``endpoints`` mapping; such an override wins over the global ``--endpoint``
for its service, and requests to it are signed over its own host, as the
official SDK signs the host it connects to.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

logger = logging.getLogger(__name__)

PREFIX = "RECONCILER_ENDPOINT_"


def variable_for(service: str) -> str:
    """The environment variable that overrides ``service``'s endpoint."""
    return PREFIX + service.upper()


def endpoints_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Service name (lower case) -> endpoint, for every non-empty override."""
    env = os.environ if environ is None else environ

    found = {
        name[len(PREFIX) :].lower(): value.strip()
        for name, value in env.items()
        if name.startswith(PREFIX) and len(name) > len(PREFIX) and value.strip()
    }
    for service, endpoint in sorted(found.items()):
        logger.debug(
            "Endpoint of %s from %s: %s", service, variable_for(service), endpoint
        )
    return found
