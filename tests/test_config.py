from pathlib import Path

import pytest

from presswatch.config import FetchSettings, load_config
from presswatch.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "presswatch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_resolve_against_the_config_folder(tmp_path):
    config = load_config(write(tmp_path, """
[presswatch]
work_dir = "state"
reports_dir = "out"

[[sources]]
name = "local"
kind = "folder"
path = "articles"
tags = ["demo"]

[[sources]]
name = "ticsante"
kind = "feed"
url = "https://example.org/rss"
selector = "div.article-body"

[fetch]
host_delay = 2
allow_hosts = ["127.0.0.1"]

[schedules.weekly]
cron = "0 7 * * 1"
period = "week"
"""))
    assert config.work_dir == tmp_path / "state"
    assert config.database == tmp_path / "state" / "presswatch.db"
    assert config.reports_dir == tmp_path / "out"
    assert config.sources[0].location == str(tmp_path / "articles")
    assert config.sources[1].options == {"selector": "div.article-body"}
    assert config.fetch.host_delay == 2.0 and config.fetch.allow_hosts == ("127.0.0.1",)
    assert config.schedules[0].timezone == "Europe/Paris"
    assert config.source("ticsante").kind == "feed"


def test_defaults_without_tables(tmp_path):
    config = load_config(write(tmp_path, ""))
    assert config.sources == () and config.fetch == FetchSettings()
    assert config.formats == ("html", "md", "json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[sources]]\nname='x'\nkind='ftp'\n", "kind must be one of"),
        ("[[sources]]\nkind='feed'\nurl='https://a'\n", "needs a name"),
        ("[[sources]]\nname='x'\nkind='feed'\n", "needs 'url'"),
        ("[[sources]]\nname='x'\nkind='url'\nurls=[]\n", "non-empty list"),
        ("[fetch]\nspeed = 3\n", "unknown setting"),
        ("[fetch]\nretries = 'many'\n", "expected int"),
        ("[schedules.daily]\ncron = '0 7 * *'\n", "5 fields"),
        ("[presswatch]\nformats = ['pdf']\n", "unknown digest format"),
        ("[presswatch\n", "cannot read configuration"),
    ],
)
def test_invalid_configs_raise_config_error(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_unknown_source_name(tmp_path):
    config = load_config(write(tmp_path, ""))
    with pytest.raises(ConfigError, match="no source named"):
        config.source("x")
