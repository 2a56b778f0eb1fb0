"""Names of the stored resource kinds, shared by the service modules."""

from __future__ import annotations

INSTANCE = "instance"
KEY_PAIR = "keypair"
VPC = "vpc"
SUBNET = "subnet"
LOAD_BALANCER = "loadbalancer"
LISTENER = "listener"
EIP = "eip"
