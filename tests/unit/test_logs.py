"""`log_format: json`: one JSON object per line with the job fields when known."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from pathlib import Path

import pytest

from common import config, logs


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("master.server", logging.WARNING, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_json_line_has_time_level_logger_message() -> None:
    line = logs.JsonFormatter().format(_record("return from %s dropped", "web1"))
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "WARNING"
    assert data["logger"] == "master.server"
    assert data["message"] == "return from web1 dropped"
    assert data["time"].endswith("Z") and "T" in data["time"]
    assert "jid" not in data and "minion" not in data and "fun" not in data


def test_job_fields_from_extra_and_defaults() -> None:
    fmt = logs.JsonFormatter({"minion": "web1"})
    data = json.loads(fmt.format(_record("job", jid="20240101000000000000", fun="test.ping")))
    assert data["jid"] == "20240101000000000000"
    assert data["fun"] == "test.ping"
    assert data["minion"] == "web1"


def test_bind_is_per_task() -> None:
    fmt = logs.JsonFormatter()

    async def job(jid: str) -> dict[str, str]:
        logs.bind(jid=jid, fun="test.echo", minion="m1")
        await asyncio.sleep(0)
        return json.loads(fmt.format(_record("running")))

    async def main() -> list[dict[str, str]]:
        return list(await asyncio.gather(job("1"), job("2")))

    first, second = contextvars.copy_context().run(asyncio.run, main())
    assert (first["jid"], second["jid"]) == ("1", "2")
    assert first["fun"] == "test.echo" and first["minion"] == "m1"
    # Nothing leaked into this (the caller's) context.
    assert "jid" not in json.loads(fmt.format(_record("outside")))


def test_message_with_newlines_and_odd_arguments_stays_one_line() -> None:
    line = logs.JsonFormatter().format(_record("bad input %r\nnext", b"\x00\xff"))
    assert "\n" not in line
    assert json.loads(line)["message"].startswith("bad input b'\\x00\\xff'")


def test_exception_is_one_field() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = _record("handler failed")
        record.exc_info = sys.exc_info()
    data = json.loads(logs.JsonFormatter().format(record))
    assert "ValueError: boom" in data["exc"]


def test_setup_json_writes_json_lines_to_the_log_file(tmp_path: Path) -> None:
    log_file = tmp_path / "log" / "master.log"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.setup("info", str(log_file), "json", minion_id="m9")
        logging.getLogger("minion.agent").info("job %s: %s", "123", "test.ping")
        for handler in root.handlers:
            handler.flush()
        lines = log_file.read_text().splitlines()
        data = json.loads(lines[-1])
        assert data["message"] == "job 123: test.ping" and data["minion"] == "m9"
        assert (log_file.stat().st_mode & 0o777) == 0o600
        logs.setup("info", str(log_file))  # default: text, as before
        logging.getLogger("x").info("plain")
        for handler in root.handlers:
            handler.flush()
        assert log_file.read_text().splitlines()[-1].endswith("x: plain")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


@pytest.mark.parametrize("kind", ["master", "minion"])
def test_config_log_format(tmp_path: Path, kind: str) -> None:
    (tmp_path / kind).write_text("log_format: json\n")
    assert config.load(kind, tmp_path)["log_format"] == "json"
    (tmp_path / kind).write_text("{}\n")
    assert config.load(kind, tmp_path)["log_format"] == "text"
    (tmp_path / kind).write_text("log_format: xml\n")
    with pytest.raises(config.ConfigError, match="log_format"):
        config.load(kind, tmp_path)
