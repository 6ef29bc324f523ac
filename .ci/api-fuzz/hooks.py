"""Schemathesis hooks for Roster's API fuzzing (loaded through SCHEMATHESIS_HOOKS).

One extra check: a call the API rejects (any 4xx or 5xx) must leave the database exactly
as it was. Each call's revision is read from /readyz just before and just after it
(`before_call` / `after_call`); the run uses one worker, so nothing else moves it.
"""

import os

import requests
import schemathesis

BASE_URL = os.environ["ROSTER_FUZZ_URL"]
# The revision seen around each call, by case id: (before, after).
_revisions = {}


def _revision():
    return requests.get(f"{BASE_URL}/readyz", timeout=10).json()["revision"]


@schemathesis.hook
def before_call(context, case, kwargs):
    # A long poll of the change feed would wait up to a minute for a commit that never
    # comes (the run makes one call at a time): fuzz its other parameters, never wait.
    if case.path == "/v1/watch":
        if isinstance(case.query, dict) and "wait_s" in case.query:
            case.query["wait_s"] = 0
        params = kwargs.get("params") if isinstance(kwargs, dict) else None
        if isinstance(params, dict) and "wait_s" in params:
            params["wait_s"] = 0
    _revisions[case.id] = (_revision(), None)


@schemathesis.hook
def after_call(context, case, response):
    before, _ = _revisions.get(case.id, (None, None))
    _revisions[case.id] = (before, _revision())


@schemathesis.check
def rejected_calls_change_nothing(ctx, response, case):
    if response.status_code < 400:
        return None
    before, after = _revisions.pop(case.id, (None, None))
    if before is None or after is None:
        return None
    if before != after:
        raise AssertionError(
            f"{case.method} {case.formatted_path} was rejected with {response.status_code} "
            f"but moved the revision from {before} to {after}"
        )
    return None
