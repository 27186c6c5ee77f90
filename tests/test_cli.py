"""The CLI contract: JSON keys, exit status 2 with one line for bad usage, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str, stories: Path | None = None, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISCORD_TOKEN", "STORIES_DIR", "DATABASE_PATH", "DATA_DIR")
    }
    base |= {"DATA_DIR": str(tmp_path / "data"), "PYTHONUTF8": "1"} | (env or {})
    cmd = [sys.executable, "-m", "bot"]
    if stories is not None:
        cmd += ["--stories", str(stories)]
    # run from tmp_path so the project's own .env (if any) is not read
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=base | {"PYTHONPATH": str(ROOT)},
        input=stdin,
        timeout=120,
        check=False,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


def test_stories_json_keys(tmp_path: Path, stories_dir: Path) -> None:
    result = run(tmp_path, "stories", "--json", stories=stories_dir)
    assert result.returncode == 0, result.stderr
    stories = json.loads(result.stdout)
    assert len(stories) == 5
    for s in stories:
        assert {"slug", "title", "file", "words", "chapters"} <= s.keys()
        for c in s["chapters"]:
            assert {"number", "label", "words"} <= c.keys()


def test_excerpt_json_is_reproducible(tmp_path: Path, stories_dir: Path) -> None:
    a = run(tmp_path, "excerpt", "--seed", "9", "--json", stories=stories_dir)
    b = run(tmp_path, "excerpt", "--seed", "9", "--json", stories=stories_dir)
    assert a.returncode == 0, a.stderr
    first = json.loads(a.stdout)
    assert {"slug", "title", "chapter", "chapter_label", "text"} <= first.keys()
    assert first == json.loads(b.stdout)


def test_chapter_json_pages_join_to_text(tmp_path: Path, stories_dir: Path) -> None:
    stories = json.loads(run(tmp_path, "stories", "--json", stories=stories_dir).stdout)
    biggest = max(stories, key=lambda s: s["words"])
    number = str(biggest["chapters"][0]["number"])
    result = run(tmp_path, "chapter", biggest["slug"], number, "--json", stories=stories_dir)
    assert result.returncode == 0, result.stderr
    chapter = json.loads(result.stdout)
    assert {"slug", "title", "chapter", "chapter_label", "pages"} <= chapter.keys()
    assert len(chapter["pages"]) >= 1 and all(len(p) <= 4096 for p in chapter["pages"])


def test_quote_json(tmp_path: Path, stories_dir: Path) -> None:
    result = run(
        tmp_path, "quote", "my whole world is soaked in sorry", "--json", stories=stories_dir
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"query", "match", "hits"} <= answer.keys()
    assert answer["match"] == "exact"
    hit = answer["hits"][0]
    assert {"slug", "title", "chapter", "chapter_label", "text", "snippet"} <= hit.keys()
    assert (hit["chapter"], hit["chapter_label"]) == (1, "Chapter Six")  # its place, its label
    assert "soaked in sorry" in hit["text"]
    # the snippet is plain text; marks are the ranges that matched
    assert "[[" not in hit["snippet"]
    assert [hit["snippet"][a:b] for a, b in hit["marks"]] == ["my whole world is soaked in sorry"]


def test_quote_text_marks_the_match_with_asterisks(tmp_path: Path, stories_dir: Path) -> None:
    result = run(tmp_path, "quote", "my whole world is soaked in sorry", stories=stories_dir)
    assert result.returncode == 0, result.stderr
    assert "*my whole world is soaked in sorry*" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    "args",
    [
        ("chapter", "no-such-story", "1"),
        ("chapter", "breaking", "999"),
        ("excerpt", "--story", "zzz"),
        ("quote", "x", "--story", "zzz"),
        ("excerpt", "--seed", "notanumber"),
        ("frobnicate",),
        ("chapter",),
        ("quote", "   "),
        ("quote", "x", "--limit", "0"),
        ("scene", "x", "--story", "zzz"),
        ("scene", "   "),
        ("scene", '" * "'),
        ("scene", "Spike", "--limit", "0"),
        ("scene", "Spike", "--limit", "many"),
        ("scene",),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path, stories_dir: Path, args: tuple[str, ...]
) -> None:
    result = run(tmp_path, *args, stories=stories_dir)
    assert result.returncode == 2, (result.stdout, result.stderr)
    no_traceback(result)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_run_without_token_explains_and_exits_2(tmp_path: Path, stories_dir: Path) -> None:
    # exit 2 as the systemd unit promises: a configuration error it must not retry
    result = run(tmp_path, stories=stories_dir)
    assert result.returncode == 2, result.stderr
    no_traceback(result)
    assert "5 stories" in result.stdout
    assert "DISCORD_TOKEN" in result.stdout and "console" in result.stdout


def test_malformed_token_is_one_line_and_no_traceback(tmp_path: Path, stories_dir: Path) -> None:
    result = run(tmp_path, stories=stories_dir, env={"DISCORD_TOKEN": "Bot 'not a token'"})
    assert result.returncode == 2
    no_traceback(result)
    assert "does not look like a bot token" in result.stdout


def test_messy_folder_via_cli(tmp_path: Path) -> None:
    folder = tmp_path / "messy"
    folder.mkdir()
    (folder / "win.txt").write_bytes(
        "Windows Story\r\n\r\nIt\x92s a caf\xe9.\r\n".encode("latin-1")
    )
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 100)
    result = run(tmp_path, "ingest", stories=folder)
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    assert "empty.txt" in result.stdout + result.stderr
    assert "blob.txt" in result.stdout + result.stderr
    quote = json.loads(run(tmp_path, "quote", "it's a cafe", "--json", stories=folder).stdout)
    assert quote["hits"] and "It’s a café." in quote["hits"][0]["text"]


def test_console_reads_commands_from_a_pipe(tmp_path: Path, stories_dir: Path) -> None:
    script = "/stories\n/quote soaked in sorry\n/excerpt\n/more\n/chapter nope 1\n/bogus\n/quote\n"
    result = run(tmp_path, "console", stories=stories_dir, stdin=script)
    # every command is answered, and the script learns that three of them failed
    assert result.returncode == 1, result.stderr
    assert result.stderr == "storybot: 3 of 7 commands failed (lines 5, 6, 7)\n"
    no_traceback(result)
    out = result.stdout
    assert "5 stories" in out
    assert "*soaked in sorry*" in out
    assert "No story called “nope”" in out
    assert "Unknown command /bogus" in out
    assert "Usage: /quote" in out
    assert max(len(line) for line in out.splitlines()) <= 80
    good = run(tmp_path, "console", stories=stories_dir, stdin="/stories\n/excerpt\n")
    assert good.returncode == 0 and good.stderr == ""


def test_console_more_at_the_end_of_a_story_is_not_a_failure(
    tmp_path: Path, stories_dir: Path
) -> None:
    # reading on with /more until the story ends: the end is an answer, not a failed command
    script = "/excerpt finally-home\n" + "/more\n" * 60
    result = run(tmp_path, "console", stories=stories_dir, stdin=script)
    assert "That was the end of “Finally Home”." in result.stdout
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_backup_makes_a_consistent_copy(tmp_path: Path, stories_dir: Path) -> None:
    assert run(tmp_path, "ingest", stories=stories_dir).returncode == 0
    result = run(tmp_path, "backup", str(tmp_path / "copy.db"), stories=stories_dir)
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "copy.db") as db:
        assert db.execute("SELECT count(*) FROM stories").fetchone()[0] == 5


def test_console_chapter_by_label_in_plain_words(tmp_path: Path, stories_dir: Path) -> None:
    script = "/chapter breaking-alone Part 3\n/chapter breaking-alone part 99\n"
    result = run(tmp_path, "console", stories=stories_dir, stdin=script)
    assert result.returncode == 1 and "(line 2)" in result.stderr, result.stderr
    assert "Breaking alone — Part 3  (page 1 of" in result.stdout
    assert "has no chapter part 99" in result.stdout.replace("\n", " ")


def test_author_note_is_shown_apart_once_labelled(tmp_path: Path, stories_dir: Path) -> None:
    result = run(
        tmp_path, "chapter", "a-tale-of-two-sinners", "1", "--page", "1", stories=stories_dir
    )
    assert result.returncode == 0, result.stderr
    assert "Author's note: this was written to explain" in result.stdout
    assert "A/N" not in result.stdout


def test_a_number_is_not_a_story_name(tmp_path: Path, stories_dir: Path) -> None:
    """Story ids belong to buttons; a shell user typing "1" means no story id."""
    result = run(tmp_path, "excerpt", "--story", "1", stories=stories_dir)
    assert result.returncode == 2, result.stdout
    assert "No story called “1”" in result.stderr


def test_global_options_work_after_the_command_too(tmp_path: Path, stories_dir: Path) -> None:
    db = str(tmp_path / "elsewhere.db")
    after = run(tmp_path, "ingest", "--stories", str(stories_dir), "--db", db)
    assert after.returncode == 0, after.stderr
    assert "added 5" in after.stdout and Path(db).is_file()
    listed = run(tmp_path, "stories", "--json", "--db", db, "--stories", str(stories_dir))
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 5


def test_every_option_and_argument_says_what_it_does() -> None:
    from bot.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    parsers = {"storybot": parser, **commands.choices}  # pyright: ignore[reportAttributeAccessIssue]
    for name, command in parsers.items():
        for action in command._actions:
            if action.dest in ("help", "command"):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_a_tilde_folder_is_expanded_and_errors_name_it_resolved(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "stories").mkdir(parents=True)
    shutil.copy(ROOT / "seeds" / "003_7455f1fa013af670.txt", home / "stories")
    env = {"HOME": str(home), "STORIES_DIR": "~/stories"}
    ok = run(tmp_path, "stories", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "1 story" in ok.stdout
    missing = run(tmp_path, "ingest", env={"HOME": str(home), "STORIES_DIR": "~/nope"})
    assert missing.returncode == 2
    assert missing.stderr == f"storybot: the stories folder {home / 'nope'} does not exist\n"
    flag = run(tmp_path, "ingest", "--stories=~/elsewhere", env={"HOME": str(home)})
    assert f"{home / 'elsewhere'} does not exist" in flag.stderr


def test_an_empty_folder_and_an_empty_library_name_the_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    ingest = run(tmp_path, "ingest", stories=empty)
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stdout == (
        f"Ingest: no story files in {empty} (it reads .txt, .epub, .html or .htm files).\n"
    )
    stories = run(tmp_path, "stories", stories=empty)
    assert stories.stdout.replace("\n", " ").strip() == (
        "The library is empty: put story files (.txt, .epub, .html or .htm) in the stories"
        f" folder {empty}."
    )


def test_chapter_by_place_or_by_label(tmp_path: Path, stories_dir: Path) -> None:
    """A one-chapter story whose only chapter is labelled "Chapter Six" is chapter 1; its
    label, and the number the label gives, find it too."""
    for ref in ("1", "Chapter Six", "6"):
        result = run(tmp_path, "chapter", "soaked-in-sorry", ref, "--json",
                     stories=stories_dir)  # fmt: skip
        assert result.returncode == 0, (ref, result.stderr)
        assert json.loads(result.stdout)["chapter_label"] == "Chapter Six"
    wrong = run(tmp_path, "chapter", "soaked-in-sorry", "2", stories=stories_dir)
    assert wrong.returncode == 2
    assert "give its place, 1 to 1, or its label (Chapter Six)" in wrong.stderr


def test_the_same_book_twice_is_told_apart_by_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "twice"
    folder.mkdir()
    source = ROOT / "seeds" / "001_d0cd0b5318a30a05.txt"
    shutil.copy(source, folder / "soaked.txt")
    shutil.copy(source, folder / "soaked-again.txt")
    (folder / "library.toml").write_text(
        '["soaked.txt"]\ntitle = "Soaked"\n["soaked-again.txt"]\ntitle = "Soaked"\n'
    )
    listed = run(tmp_path, "stories", stories=folder)
    assert "Soaked (soaked.txt)" in listed.stdout and "Soaked (soaked-again.txt)" in listed.stdout
    found = run(tmp_path, "quote", "soaked in sorry", stories=folder)
    assert "1. Soaked (soaked" in found.stdout and "2. Soaked (soaked" in found.stdout
