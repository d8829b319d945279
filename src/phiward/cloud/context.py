"""One scan's view of an AWS account: a boto3 session, cached clients and memoised API answers.

Everything reaches AWS through boto3 (so ``AWS_ENDPOINT_URL``, ``--profile`` and the standard
credential chain all work). Clients are created once per (service, region) and shared by every
check: creating botocore clients dominates the cost of a scan, not the API calls. Answers that
several checks need (security groups, the credential report, the bucket list) are fetched once.
Every API operation called is counted, so tests can prove the shipped read-only policy covers it.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.loaders import JSONFileLoader

T = TypeVar("T")

#: boto3 client name -> IAM action prefix, where they differ.
IAM_PREFIX = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "efs": "elasticfilesystem",
    "s3control": "s3",
    "resourcegroupstaggingapi": "tag",
}

#: (client, operation) -> IAM action, where the action is not named after the operation.
IAM_ACTION = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("cloudfront", "ListDistributions"): "cloudfront:ListDistributions",
    ("inspector2", "BatchGetAccountStatus"): "inspector2:BatchGetAccountStatus",
}


def iam_action(service: str, operation: str) -> str:
    """The IAM action that authorises ``service``'s ``operation`` (e.g. ``s3:ListAllMyBuckets``)."""
    if service == "apigateway":  # API Gateway authorises by HTTP verb, reads are all GET
        return "apigateway:GET"
    return IAM_ACTION.get((service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}")


def _endpoint_overridden() -> bool:
    return bool(os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3_CONTROL"))


def _strip_account_host(request: Any, **_: Any) -> None:
    """s3control prefixes the host with the account id, which a local or VPC endpoint
    (``AWS_ENDPOINT_URL``) does not resolve; the id also travels in ``x-amz-account-id``."""
    account = request.headers.get("x-amz-account-id")
    if not account:
        return
    account = account.decode() if isinstance(account, bytes) else str(account)
    parts = urlsplit(request.url)
    if parts.hostname and parts.hostname.startswith(account + "."):
        netloc = parts.netloc.replace(account + ".", "", 1)
        request.url = urlunsplit(parts._replace(netloc=netloc))


_DOC_KEYS = frozenset({"documentation", "documentationUrl"})


def _lean_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON object hook: plain dicts (botocore uses OrderedDict) with documentation emptied."""
    return {k: ("" if k in _DOC_KEYS else v) for k, v in pairs}


class _LeanJSONFileLoader(JSONFileLoader):
    """Loads botocore's data files without their API documentation, into plain dicts.

    The models of the ~20 services a scan uses (EC2's above all) are most of its memory; their
    documentation is about half of each model and a scan never shows it. Documentation keys are
    kept (emptied) because some botocore handlers index them.
    """

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            payload = fp.read().decode("utf-8")
        return json.loads(payload, object_pairs_hook=_lean_pairs)


def _lean_models(session: boto3.Session) -> None:
    loader = session._session.get_component("data_loader")
    if not isinstance(loader.file_loader, _LeanJSONFileLoader):
        loader.file_loader = _LeanJSONFileLoader()


class ScanContext:
    """Shared state of one scan. Thread-safe: checks run concurrently against it."""

    def __init__(
        self,
        session: boto3.Session,
        *,
        home_region: str,
        regions: tuple[str, ...],
        account_id: str = "",
        partition: str = "aws",
        max_attempts: int = 8,
        pool_size: int = 16,
        eligible_services: frozenset[str] | None = None,
    ) -> None:
        self.session = session
        self.home_region = home_region
        self.regions = regions
        self.account_id = account_id
        self.partition = partition
        #: ARN service names treated as HIPAA-eligible (None: the shipped, dated list)
        self.eligible_services = eligible_services
        self._config = Config(
            retries={"max_attempts": max_attempts, "mode": "adaptive"},
            max_pool_connections=pool_size,
            connect_timeout=10,
            read_timeout=30,
            user_agent_extra="phiward-check",
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._client_lock = threading.Lock()
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._memo_locks: dict[tuple[Any, ...], threading.Lock] = {}
        self._memo_guard = threading.Lock()
        self.api_calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()
        session.events.register("before-call.*.*", self._record_call)
        _lean_models(session)

    def _record_call(self, model: Any, **_: Any) -> None:
        action = iam_action(model.service_model.service_name, model.name)
        with self._calls_lock:
            self.api_calls[action] += 1

    def client(self, service: str, region: str | None = None) -> Any:
        """The cached boto3 client for ``service`` in ``region`` (the home region by default)."""
        key = (service, region or self.home_region)
        found = self._clients.get(key)
        if found is not None:
            return found
        with self._client_lock:  # boto3 sessions are not thread-safe; clients are
            found = self._clients.get(key)
            if found is None:
                found = self.session.client(
                    service,  # type: ignore[call-overload]
                    region_name=key[1],
                    config=self._config,
                )
                if service == "s3control" and _endpoint_overridden():
                    found.meta.events.register("before-sign.s3-control.*", _strip_account_host)
                self._clients[key] = found
            return found

    def release_region(self, region: str) -> None:
        """Forget ``region``'s clients and cached answers once no check needs them any more."""
        with self._client_lock:
            for key in [k for k in self._clients if k[1] == region]:
                del self._clients[key]
        with self._memo_guard:
            for key in [k for k in self._memo if len(k) > 1 and k[1] == region]:
                del self._memo[key]
                self._memo_locks.pop(key, None)

    def memo(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """``compute()`` once per ``key`` for the whole scan, even when asked concurrently."""
        if key in self._memo:
            return self._memo[key]  # type: ignore[no-any-return]
        with self._memo_guard:
            lock = self._memo_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                self._memo[key] = compute()
            return self._memo[key]  # type: ignore[no-any-return]

    def paginate(
        self, service: str, region: str | None, operation: str, key: str, **kwargs: Any
    ) -> list[Any]:
        """All items under ``key`` across every page of ``operation`` (memoised)."""

        def fetch() -> list[Any]:
            client = self.client(service, region)
            if client.can_paginate(operation):
                items: list[Any] = []
                for page in client.get_paginator(operation).paginate(**kwargs):
                    items.extend(page.get(key, []))
                return items
            return list(getattr(client, operation)(**kwargs).get(key, []))

        frozen = tuple(sorted((k, repr(v)) for k, v in kwargs.items()))
        return self.memo((service, region, operation, key, frozen), fetch)

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"
