"""The legacy (API 2.0) Tencent Cloud client.

In: credentials, a region, an optional endpoint, and calls by service and
action. Out: answers, typed batch results and classified errors. Called by
the plan's refresh and the apply executor through the service modules; the
emulator shares only ``signing`` (guarded by known-answer vectors).

Modules, bottom to top:

- ``signing``: v1 signatures; ``zones``: zone names <-> numeric ids;
- ``redact``: secrets kept out of logs and errors;
- ``errors``: the exception tree; ``results``: ``BatchResult``/``ItemResult``;
- ``credentials``: keys and region from the environment and tccli profiles;
- ``ratelimit``: token buckets per (endpoint, action);
- ``client``: ``LegacyClient`` (signed POSTs, retries, rate limits);
- ``paging``: Describe* pagination and id chunking;
- ``cvm``: ``CvmApi`` and ``InstanceView``;
- ``testing``: a scripted loopback server for tests.

Nothing is imported here, so that the emulator can use ``signing`` without
pulling in the HTTP client.
"""

# TODO(#3): add vpc.py, clb.py and eip.py (with DescribeLoadBalancersTaskResult
# and DescribeVpcTaskResult polling) once the engine manages those kinds.
