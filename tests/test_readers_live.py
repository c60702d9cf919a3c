"""Live reads against a real ovsdb-server (issue #2): JSON-RPC and ovsdbapp reads equal the
file read and the server's dump, ``ovninspect snapshot`` writes a file ovsdb-tool and
ovsdb-server accept, a live read never writes, SSL with ``-p/-c/-C``, and role checks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ovninspect.sources import LoadOptions, open_snapshot
from tests.ovnlab import OvnLab, run
from tests.test_readers_parity import (
    FIXTURES,
    Truth,
    assert_same,
    normalize_snapshot,
    raft_facts,
    raw_records,
    records_complete,
    role_of,
    run_cli,
    truth_from_server,
)

pytestmark = pytest.mark.ovn

NB_FILE = FIXTURES / "base" / "nb-log.db"
SB_FILE = FIXTURES / "base" / "sb.db"
CLUSTERED_FILE = FIXTURES / "base" / "nb-clustered.db"


def fixture(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path.relative_to(FIXTURES)} missing (scripts/make_fixtures.sh)")
    return path


def file_state(path: Path) -> tuple[str, int]:
    """sha256 and record count of a served database file."""
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(raw_records(data))


def settled_state(path: Path, timeout: float = 10) -> tuple[str, int]:
    """file_state once the server has finished its own start-up writes: a clustered server
    elects itself and commits a no-op entry just after it starts."""
    deadline = time.monotonic() + timeout
    previous = None
    while time.monotonic() < deadline:
        data = path.read_bytes()
        if records_complete(data):
            settled = True
            if data.startswith(b"OVSDB CLUSTER "):
                facts = raft_facts(data)
                settled = facts["commit_index"] == facts["last_index"]
            state = (hashlib.sha256(data).hexdigest(), len(raw_records(data)))
            if settled and state == previous:
                return state
            previous = state
        time.sleep(0.05)
    raise AssertionError(f"{path} kept changing for {timeout} s")


@contextmanager
def served(db_file: Path, tmp_path: Path) -> Iterator[tuple[OvnLab, Path]]:
    """A lab serving a private copy of ``db_file``; yields the lab and the served file."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    local = tmp_path / db_file.name
    shutil.copyfile(db_file, local)  # immune to a concurrent make_fixtures.sh run
    with OvnLab() as lab:
        lab.start_nb(db_file=local)
        yield lab, local


@pytest.mark.parametrize("via", ["jsonrpc", "ovsdbapp"])
@pytest.mark.parametrize("which", ["nb", "sb", "nb-clustered"])
def test_live_read_equals_file_read(which: str, via: str, tmp_path: Path) -> None:
    """open_snapshot("unix:...") equals the file read and the dump; the server is not written."""
    src = fixture({"nb": NB_FILE, "sb": SB_FILE, "nb-clustered": CLUSTERED_FILE}[which])
    with served(src, tmp_path) as (lab, local):
        truth = truth_from_server(lab, lab.nb_remote)
        before_file = settled_state(lab.nb_db)
        live = open_snapshot(lab.nb_remote, role_of(truth.name), LoadOptions(via=via))
        after = truth_from_server(lab, lab.nb_remote)
        assert file_state(lab.nb_db) == before_file, "the served database file changed"
    assert after.dump == truth.dump
    assert live.info.format == ("live (JSON-RPC select)" if via == "jsonrpc"
                                else "live (ovsdbapp IDL)")
    assert (live.name, live.version) == (truth.name, truth.schema["version"])
    from_file = open_snapshot(str(local), role_of(truth.name))
    live_tables = normalize_snapshot(live, truth.kinds)
    assert_same(live_tables, normalize_snapshot(from_file, truth.kinds), f"live {via} vs file")
    assert_same(live_tables, truth.tables, f"live {via} vs dump")


def _tool(*args: str) -> str:
    return run(["ovsdb-tool", *args]).strip()


def _check_written_file(out: Path, truth: Truth, tmp_path: Path) -> None:
    """ovsdb-tool accepts ``out`` and ovsdb-server serves it with the same dump."""
    _tool("show-log", str(out))
    assert _tool("db-name", str(out)) == truth.name
    assert _tool("db-version", str(out)) == truth.schema["version"]
    run(["ovsdb-tool", "db-is-standalone", str(out)])
    assert len(raw_records(out.read_bytes())) == 2
    with served(out, tmp_path / "reserve") as (lab, _):
        again = truth_from_server(lab, lab.nb_remote)
    assert_same(again.tables, truth.tables, f"ovsdb-server serving {out.name}")


def test_snapshot_command_from_live(tmp_path: Path) -> None:
    """``ovninspect snapshot --db unix:... -o out.db`` makes a file ovsdb-tool/-server accept,
    and the live server's file and dump are unchanged afterwards."""
    src = fixture(NB_FILE)
    out = tmp_path / "out.db"
    with served(src, tmp_path) as (lab, _):
        truth = truth_from_server(lab, lab.nb_remote)
        before_file = settled_state(lab.nb_db)
        proc = run_cli("snapshot", "--db", lab.nb_remote, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert file_state(lab.nb_db) == before_file, "the live server's file changed"
        assert lab.dump_json() == truth.dump
    assert "Traceback" not in proc.stderr
    _check_written_file(out, truth, tmp_path)


@pytest.mark.parametrize("name", ["nb-clustered.db", "nb-compacted-plus-diffs.db"])
def test_snapshot_command_from_file(name: str, tmp_path: Path) -> None:
    """``ovninspect snapshot`` of a clustered / diff-bearing file equals serving that file."""
    src = fixture(FIXTURES / "base" / name)
    local = tmp_path / name
    shutil.copyfile(src, local)
    digest = hashlib.sha256(local.read_bytes()).hexdigest()
    with served(local, tmp_path / "reserve") as (lab, _):
        truth = truth_from_server(lab, lab.nb_remote)
    out = tmp_path / "out.db"
    proc = run_cli("snapshot", "--db", str(local), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256(local.read_bytes()).hexdigest() == digest
    _check_written_file(out, truth, tmp_path)


@pytest.mark.parametrize("which", ["nb", "sb"])
def test_live_wrong_role_is_refused(which: str, tmp_path: Path) -> None:
    """An NB server read with --sb-role, or an SB server as --db: exit 2, one line."""
    src = fixture(NB_FILE if which == "nb" else SB_FILE)
    with served(src, tmp_path) as (lab, _):
        args = ["info", "--db", lab.nb_remote] + (["--sb-role"] if which == "nb" else [])
        proc = run_cli(*args)
    assert proc.returncode == 2, proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ovninspect: "), proc.stderr
    assert lab.nb_remote in lines[0]
    other = "OVN_Southbound" if which == "nb" else "OVN_Northbound"
    assert f"not {other}" in lines[0]


# --------------------------------------------------------------------------------------
# SSL
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA plus server and client certificates made by ovs-pki in a temp dir."""
    if shutil.which("ovs-pki") is None:
        pytest.skip("ovs-pki (openvswitch-common) not installed")
    root = tmp_path_factory.mktemp("pki")
    run(["ovs-pki", f"--dir={root / 'ca'}", f"--log={root / 'pki.log'}", "init"])
    for who in ("server", "client"):
        run(["ovs-pki", f"--dir={root / 'ca'}", f"--log={root / 'pki.log'}", "req+sign",
             who, "switch"], cwd=root)  # short name: it becomes the CN
    return {
        "ca": root / "ca" / "switchca" / "cacert.pem",
        "server_key": root / "server-privkey.pem", "server_cert": root / "server-cert.pem",
        "client_key": root / "client-privkey.pem", "client_cert": root / "client-cert.pem",
    }


@contextmanager
def ssl_server(db_file: Path, pki: dict[str, Path]) -> Iterator[tuple[str, str, Path]]:
    """ovsdb-server on a copy of ``db_file`` with ``pssl:0:127.0.0.1`` plus a unix socket;
    yields (ssl remote, unix remote, served file) and stops the server by its pid."""
    with OvnLab() as lab:  # only for its temp dir; the server is started here
        db = lab.path("ssl.db")
        shutil.copyfile(db_file, db)
        log = lab.path("ssl.log")
        pidfile = lab.path("ssl.pid")
        run(["ovsdb-server", str(db), "--remote=pssl:0:127.0.0.1",
             f"--remote=punix:{lab.path('ssl.sock')}",
             f"--private-key={pki['server_key']}", f"--certificate={pki['server_cert']}",
             f"--ca-cert={pki['ca']}", f"--pidfile={pidfile}",
             f"--unixctl={lab.path('ssl.ctl')}", f"--log-file={log}", "--detach",
             "--no-chdir"])
        pid = int(pidfile.read_text())
        try:
            port = None
            for _ in range(250):
                found = re.search(r"listening on port (\d+)", log.read_text())
                if found:
                    port = found.group(1)
                    break
                time.sleep(0.02)
            assert port, f"no listening port in {log}: {log.read_text()}"
            yield f"ssl:127.0.0.1:{port}", f"unix:{lab.path('ssl.sock')}", db
        finally:
            os.kill(pid, signal.SIGTERM)
            for _ in range(250):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)


def test_ssl_live_read(pki: dict[str, Path], tmp_path: Path) -> None:
    """ssl: with -p/-c/-C reads what the server serves; without them, exit 2 and one line."""
    src = fixture(NB_FILE)
    with ssl_server(src, pki) as (remote, unix_remote, db):
        before = settled_state(db)
        with OvnLab() as client_lab:
            truth = truth_from_server(client_lab, unix_remote)
        certs = ["-p", str(pki["client_key"]), "-c", str(pki["client_cert"]),
                 "-C", str(pki["ca"])]
        proc = run_cli("info", "--db", remote, *certs, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        counts = {t["table"]: t["rows"] for t in json.loads(proc.stdout)["tables"]}
        assert counts == {t: len(rows) for t, rows in truth.tables.items()}

        opts = LoadOptions(private_key=str(pki["client_key"]),
                           certificate=str(pki["client_cert"]), ca_cert=str(pki["ca"]))
        live = open_snapshot(remote, "nb", opts)
        assert_same(normalize_snapshot(live, truth.kinds), truth.tables, "ssl live")

        out = tmp_path / "ssl-out.db"
        proc = run_cli("snapshot", "--db", remote, *certs, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert file_state(db) == before, "the server's file changed"

        bare = run_cli("info", "--db", remote)
        assert bare.returncode == 2
        lines = bare.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("ovninspect: "), bare.stderr
        assert remote in lines[0] and "-p" in lines[0] and "-C" in lines[0]
        assert "Traceback" not in bare.stderr
    _check_written_file(out, truth, tmp_path)
