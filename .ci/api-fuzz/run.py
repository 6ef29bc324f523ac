#!/usr/bin/env python3
"""Fuzzes Roster's HTTP API with Schemathesis against a live daemon.

Starts `rosterd serve` on a fresh database (SQLite in a temporary directory, or a fresh
PostgreSQL database created next to --postgres and dropped after), seeds an account the
schema's examples name, then runs Schemathesis over every operation of the daemon's own
/v1/openapi.json with a fixed seed and a bounded number of examples. Fails when
Schemathesis finds a 5xx, a response that does not match the schema, or a rejected call
that changed the database (hooks.py). `cargo xtask fuzz-api` builds what it needs and
calls this.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent

# What is checked on every response. Left out: `positive_data_acceptance` (schema-valid
# input is often refused by the rules, rightly: an unknown account is a 404, a second owner
# a 422) and `missing_required_header` (the only required header is Authorization, which
# `ignored_auth` covers).
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "unsupported_method",
        "allow_header_conformance",
        "ignored_auth",
        "use_after_free",
        "ensure_resource_availability",
        "rejected_calls_change_nothing",
    ]
)


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raise SystemExit(f"seeding: {method} {path}: {error.code} {error.read().decode()}") from error


def seed(base, token):
    """The account, members, resources and group schemathesis.toml names."""
    owner = {"id": "owner-1", "email": "owner-1@example.com", "name": "Owner One"}
    call(base, token, "POST", "/v1/accounts", {"id": "acme", "pack": "studio", "name": "Acme", "owner": owner})
    call(base, token, "PUT", "/v1/principals/member-1", {"email": "member-1@example.com", "name": "Member One"})
    call(base, token, "POST", "/v1/accounts/acme/members", {"principal": "member-1", "role": "manager"})
    call(base, token, "POST", "/v1/accounts/acme/resources", {"resource": "studio:1"})
    call(base, token, "POST", "/v1/accounts/acme/resources",
         {"resource": "pickaxe:1", "parent": "studio:1", "owner": "member-1"})
    call(base, token, "POST", "/v1/accounts/acme/groups", {"id": "crew"})


def start(rosterd, config):
    child = subprocess.Popen(
        [rosterd, "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        env={**os.environ, "ROSTER_LOG": "warn"},
        text=True,
    )
    for line in child.stdout:
        if line.startswith("rosterd listening on "):
            address = line.strip().removeprefix("rosterd listening on http://")
            # Keep draining stdout so the daemon never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in child.stdout], daemon=True).start()
            return child, address
    raise SystemExit(f"rosterd exited before listening ({child.wait()})")


def psql(admin_url, statement):
    subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", statement], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rosterd", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server; SQLite when absent")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--examples", type=int, default=20, help="most examples per operation")
    parser.add_argument("--report", help="write Schemathesis's JUnit report here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        database = None
        if args.postgres:
            database = f"roster_fuzz_{os.getpid()}"
            psql(args.postgres, f"CREATE DATABASE {database}")
            url = args.postgres.rsplit("/", 1)[0] + "/" + database
        else:
            url = f"sqlite://{tmp / 'roster.db'}?mode=rwc"
        config = tmp / "rosterd.toml"
        config.write_text(
            f'[packs]\nplugin_dirs = ["{pathlib.Path(args.plugin_dir).resolve()}"]\nrequired = ["studio"]\n\n'
            f'[database]\nurl = "{url}"\n\n[server]\nlisten = "127.0.0.1:0"\ndata_dir = "{tmp / "data"}"\n'
            # A generated min_revision past the newest revision waits this long, then 409.
            f'\n[replication]\nmin_revision_timeout_ms = 200\n'
        )
        child, address = start(args.rosterd, config)
        try:
            base = f"http://{address}"
            token = (tmp / "data" / "bootstrap-token").read_text().strip()
            seed(base, token)
            # Twice: as the platform (a service token), then as a member through
            # Roster-Act-As, so the management rules' refusals are fuzzed too.
            failed = 0
            for identity in (None, "member-1"):
                command = [
                    "schemathesis", "--config-file", str(HERE / "schemathesis.toml"),
                    "run", f"{base}/v1/openapi.json",
                    "--header", f"Authorization: Bearer {token}",
                    "--checks", CHECKS,
                    "--seed", str(args.seed),
                    "--max-examples", str(args.examples),
                    "--workers", "1",
                    "--no-color",
                    "--suppress-health-check", "all",
                    "--request-timeout", "30",
                ]
                if identity:
                    command += ["--header", f"Roster-Act-As: {identity}"]
                if args.report:
                    command += ["--report", "junit", "--report-junit-path", f"{args.report}.{identity or 'platform'}.xml"]
                env = {**os.environ, "ROSTER_FUZZ_URL": base, "SCHEMATHESIS_HOOKS": "hooks",
                       "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
                started = time.monotonic()
                result = subprocess.run(command, env=env)
                print(f"api-fuzz: schemathesis exit {result.returncode} in {time.monotonic() - started:.0f} s "
                      f"({'postgres' if database else 'sqlite'}, as {identity or 'the platform'}, seed {args.seed}, "
                      f"{args.examples} examples per operation)")
                failed = failed or result.returncode
            return failed
        finally:
            child.terminate()
            child.wait(timeout=30)
            if database:
                psql(args.postgres, f"DROP DATABASE IF EXISTS {database}")


if __name__ == "__main__":
    sys.exit(main())
