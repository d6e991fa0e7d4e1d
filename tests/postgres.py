"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl in a temp dir on a free port.

initdb refuses to run as root, so as root the cluster runs as Debian's `postgres` user, with its
data dir and socket in a temp dir that user owns.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg


def find_bin_dir() -> Path:
    if shutil.which("initdb") and shutil.which("pg_ctl"):
        return Path(shutil.which("pg_ctl")).resolve().parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]), reverse=True)
    for d in dirs:
        if os.path.exists(f"{d}/initdb"):
            return Path(d)
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                       "`make test` installs Debian's postgresql package.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    def __init__(self):
        self.bin = find_bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="lms-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = None
        self.running = False
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> None:
        result = subprocess.run([str(self.bin / args[0]), *args[1:]], user=self.user,
                                capture_output=True, text=True, timeout=120, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> str:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        self.start_server()
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE lms_test")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/lms_test"

    def start_server(self) -> None:
        """Start (or, after stop_server, restart) the server on the same port and data."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        self.running = True

    def stop_server(self) -> None:
        """An outage: the server goes away and every connection to it breaks (data kept)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
