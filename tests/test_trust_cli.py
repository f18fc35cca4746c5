"""What a new user meets first: help, version, settings mistakes, scriptable output, feed URLs
typed in several forms, feeds declared in files (issue 10, "Configuration and CLI")."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli, Site
from tests.test_cli import assert_one_line_error


def test_version(cli: Cli) -> None:
    from ingest import __version__

    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"ingest {__version__}"


@pytest.mark.parametrize("command", [["show"], ["fetch"], ["feeds", "add"], []])
def test_help_names_arguments_plainly(cli: Cli, command: list[str]) -> None:
    done = cli(*command, "--help")
    assert done.returncode == 0, done.stderr
    assert "<bool>" not in done.stdout and "{" not in done.stdout, done.stdout
    if command == ["show"]:
        assert "Usage: ingest show [OPTIONS] ARTICLE_ID" in done.stdout


def test_a_misspelt_environment_variable_is_reported_with_the_closest_key(cli: Cli) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    done = cli("feeds", "list", INGEST_CONCURENCY="5")
    assert done.returncode == 0, done.stderr
    assert "INGEST_CONCURENCY" in done.stderr and "INGEST_CONCURRENCY" in done.stderr


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"INGEST_MIN_INTERVAL": "100000", "INGEST_MAX_INTERVAL": "10"}, "min_interval"),
        ({"INGEST_HOST_DELAY": "1e309"}, "host_delay"),
        ({"INGEST_REQUEST_TIMEOUT": "nan"}, "request_timeout"),
    ],
)
def test_inconsistent_or_infinite_settings_are_errors_naming_the_key(
    cli: Cli, env: dict[str, str], key: str
) -> None:
    assert_one_line_error(cli("feeds", "list", **env), 2, key)


def test_user_agent_names_the_configured_contact_and_no_invented_address(
    cli: Cli, site: Site
) -> None:
    site.serve_all()
    assert (
        cli("feeds", "add", site.url("/feed.rss"), INGEST_CONTACT="ops@example.org").returncode == 0
    )
    agent = site.requests("/feed.rss")[0].headers["User-Agent"]
    assert agent.startswith("ingest/") and "ops@example.org" in agent
    assert "github.com" not in agent and "http" not in agent


def test_unknown_ids_are_errors_for_reextract_as_for_show(cli: Cli) -> None:
    assert_one_line_error(cli("reextract", "999999"), 2, "no such article: 999999")


def test_feeds_commands_print_the_id_on_stdout_and_words_on_stderr(cli: Cli, site: Site) -> None:
    site.serve_all()
    added = cli("feeds", "add", site.url("/feed.rss"))
    assert added.returncode == 0 and added.stdout == "1\n" and "added: [1]" in added.stderr
    done = cli("feeds", "set", "1", "--interval", "2h")
    assert done.stdout == "1\n" and "polled every" in done.stderr
    done = cli("feeds", "remove", "1")
    assert done.stdout == "1\n" and "removed feed 1" in done.stderr


def test_one_feed_typed_in_several_forms_is_one_subscription(cli: Cli, site: Site) -> None:
    site.serve_all()
    plain = site.url("/feed.rss")
    shouting = plain.replace("http://", "HTTP://")
    assert cli("feeds", "add", plain + "#latest").returncode == 0
    done = cli("feeds", "add", shouting, plain + "?utm_source=newsletter", plain)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("already subscribed: [1]") == 3, done.stderr
    [feed] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert feed["url"] == plain
    assert cli("feeds", "remove", shouting).stdout == "1\n"  # found by any form


def _declare(cli: Cli, url: str) -> None:
    (cli.cwd / "config").mkdir(exist_ok=True)
    (cli.cwd / "config" / "feeds.toml").write_text(f'[[feeds]]\nurl = "{url}"\n', encoding="utf-8")


def test_feeds_list_names_declared_feeds_not_synced_yet(cli: Cli, site: Site) -> None:
    assert cli("fetch").returncode == 0  # an empty archive: reading commands create none
    _declare(cli, site.url("/feed.rss"))
    done = cli("feeds", "list")
    assert done.returncode == 0
    assert f"declared in config/feeds.toml, added by the next fetch: {site.url('/feed.rss')}" in (
        done.stderr
    )
    assert "no feeds yet" not in done.stderr


def test_a_declared_feed_is_disabled_not_removed_and_the_sync_respects_it(
    cli: Cli, site: Site
) -> None:
    site.serve_all()
    _declare(cli, site.url("/feed.rss"))
    assert cli("fetch").returncode == 0
    assert_one_line_error(cli("feeds", "remove", "1"), 2, "declared in config/feeds.toml")
    done = cli("feeds", "disable", "1")
    assert done.returncode == 0 and done.stdout == "1\n"
    before = len(site.requests("/feed.rss"))
    assert cli("fetch").returncode == 0
    assert len(site.requests("/feed.rss")) == before  # not polled, not enabled again
    [feed] = json.loads(cli("feeds", "list", "--format", "json").stdout)
    assert feed["enabled"] is False and feed["health"] == "disabled"


def test_verbose_shows_the_runs_progress_not_the_schema_check(cli: Cli, site: Site) -> None:
    site.serve_all()
    added = cli("feeds", "add", site.url("/feed.rss"))
    assert "3 entries archived" in added.stderr  # the check's body was the first poll
    done = cli("-v", "fetch")
    assert done.returncode == 0, done.stderr
    assert "1 feeds claimed" in done.stderr
    assert "feed 1 done (ok): 0 new, 0 updated, 3 full texts" in done.stderr
    assert "page of article 1 fetched: 200" in done.stderr
    assert "alembic" not in done.stderr


def test_the_command_list_gives_each_command_one_unbroken_line(cli: Cli) -> None:
    """A docstring wraps at 100 columns; the list must not break its first paragraph there."""
    done = cli("--help", COLUMNS="250")
    assert done.returncode == 0, done.stderr
    [line] = [row for row in done.stdout.splitlines() if "│ reextract " in row]
    assert "(after an upgrade): no page is fetched; a changed text becomes a new revision" in line
