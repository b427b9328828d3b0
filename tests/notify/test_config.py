"""The notify section: defaults, and mistakes reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chartroute.config import ConfigError, load_config
from chartroute.config.notify import FileChannel
from chartroute.sync import config_fingerprint
from tests.conftest import ROOT


def with_notify(tmp_path: Path, notify_yaml: str) -> Path:
    text = (ROOT / "config" / "practice.yaml").read_text() + "\nnotify:\n" + notify_yaml
    path = tmp_path / "practice.yaml"
    path.write_text(text)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_without_a_notify_section_everyone_hears_on_the_file_channel() -> None:
    config = load_config(ROOT / "config" / "practice.yaml")
    assert config.notify.default_channels == ["file"]
    assert isinstance(config.notify.channels["file"], FileChannel)
    assert config.practice.calendar.hours["mon"] == "08:00-17:00"
    assert "sat" not in config.practice.calendar.hours


@pytest.mark.parametrize(
    ("notify_yaml", "field", "message"),
    [
        ("  default_channels: [email]\n", "notify.default_channels.0", "unknown channel 'email'"),
        (
            "  channels:\n    email: {type: smtp, host: relay, from: a@b.c}\n"
            "  recipients:\n    dr-nobody: [email]\n",
            "notify.recipients.dr-nobody",
            "'dr-nobody' is not on the roster",
        ),
        (
            "  channels:\n    chat: {type: slack, token: {env: SLACK_BOT_TOKEN}}\n"
            "  default_channels: [chat]\n  recipients:\n    dr-blake: [chat]\n",
            "notify.recipients.dr-blake.0",
            "dr-blake has no slack id on the roster",
        ),
        (
            "  channels:\n    hook: {type: webhook, url: 'https://x',\n"
            "           secret: {env: A, prefect_secret: b}}\n"
            "  default_channels: [hook]\n",
            "notify.channels.hook",
            "give exactly one of 'env' or 'prefect_secret'",
        ),
        (
            "  channels:\n    hook: {type: webhook, url: 'https://x', secret: {env: lower_case}}\n"
            "  default_channels: [hook]\n",
            "notify.channels.hook",
            "String should match pattern",
        ),
        (
            "  channels:\n    mail: {type: smtp, host: relay, from: a@b.c, username: u}\n"
            "  default_channels: [mail]\n",
            "notify.channels.mail",
            "'username' and 'password' go together",
        ),
    ],
)
def test_mistakes_name_the_line_and_field(
    tmp_path: Path, notify_yaml: str, field: str, message: str
) -> None:
    path = with_notify(tmp_path, notify_yaml)
    found = problems(path)
    assert any(field in p and message in p for p in found), found
    first_notify_line = path.read_text().splitlines().index("notify:") + 1
    lines = [int(p.split(":")[1]) for p in found if field in p]
    assert lines and all(line > first_notify_line for line in lines)


def test_notify_and_calendar_changes_do_not_reclassify_every_chart(tmp_path: Path) -> None:
    base = load_config(ROOT / "config" / "practice.yaml")
    data = yaml.safe_load((ROOT / "config" / "practice.yaml").read_text())
    data["practice"]["calendar"] = {"hours": {"mon": "07:00-19:00"}}
    data["notify"] = {"digest_top_items": 3}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert config_fingerprint(load_config(tmp_path / "p.yaml")) == config_fingerprint(base)
    data["billing"]["default_timely_filing_days"] = 30
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    assert config_fingerprint(load_config(tmp_path / "p.yaml")) != config_fingerprint(base)
