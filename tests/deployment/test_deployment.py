"""Two web processes behind a round-robin proxy and two workers on PostgreSQL: 50
municipalities deliver their month at once, some of them the same file twice, and the
outcome is that of one process receiving the same files one after another."""

from __future__ import annotations

import contextlib

import pytest

from tests.deployment import cluster, files

pytestmark = [
    pytest.mark.slow,  # four processes and a single-process ingest: one to four minutes
    pytest.mark.skipif(cluster.postgres_url() is None, reason="a deployment runs on PostgreSQL"),
]

MUNICIPALITIES = 50
CLIENTS = 8  # at most this many requests at once


def test_many_municipalities_deliver_at_once_to_two_web_and_two_worker_processes(tmp_path):
    planned = files.plan(MUNICIPALITIES, persons=3, per_person=2)
    kommunkoder = [item.kommunkod for item in planned]
    directory = files.write(planned, tmp_path / "files")

    with contextlib.ExitStack() as stack:
        dbs = stack.enter_context(cluster.databases("deploy"))
        env = cluster.environment(tmp_path / "data", dbs.urls, INUK_INLINE_MAX_BYTES="0")
        tokens = cluster.inside(env, "provision", *kommunkoder)
        # The same schema and register, for the same files received in one process.
        single = stack.enter_context(cluster.databases("single", copy_of=dbs))
        with cluster.deployment(env, tmp_path / "logs") as running:
            ports = running.serve("web1", "web2")
            workers = [running.worker(f"worker{n}") for n in (1, 2)]
            with cluster.Proxy(ports) as proxy:
                sent = cluster.deliver_all(
                    f"http://127.0.0.1:{proxy.port}", tokens, planned, clients=CLIENTS
                )
            assert all(w.popen.poll() is None for w in workers), workers[0].output()

        single_env = cluster.environment(tmp_path / "single", single.urls)
        single_env["INUK_VAULT_KEY_FILE"] = env["INUK_VAULT_KEY_FILE"]  # the same keyring
        alone = cluster.inside(single_env, "ingest", str(directory))

        # Every receipt ends as it should; a file sent twice at once has one receipt.
        by_file: dict[str, set[str]] = {}
        for item, _, receipt in sent:
            assert receipt["status"] == item.expected, (item.name, receipt)
            assert alone["statuses"][item.name] == item.expected
            by_file.setdefault(item.name, set()).add(receipt["id"])
        assert all(len(ids) == 1 for ids in by_file.values())
        assert sum(item.twice for item, _, _ in sent) == 2 * sum(p.twice for p in planned)

        # Nothing lost, nothing doubled: the same ledger, state and receipts as one process.
        got, expected = cluster.contents(dbs), cluster.contents(single)
        assert len(got["receipts"]) == MUNICIPALITIES
        assert got["ledger"], "nothing was applied"
        for part in ("receipts", "persons", "ledger", "interventions", "results"):
            assert got[part] == expected[part], part
        assert len(set(got["ledger"])) == len(got["ledger"])

        verified = cluster.inuk(env, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
