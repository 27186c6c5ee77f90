"""What a fresh machine installs: production needs only what runs, at the versions CI tested."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def makefile_rules() -> dict[str, tuple[str, list[str]]]:
    """target -> (prerequisites, recipe lines)."""
    rules: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
        elif m := re.match(r"^([$()\w.\-]+):(?!=)(.*)$", line):
            current = []
            rules[m[1]] = (m[2].strip(), current)
        else:
            current = None
    return rules


def locked(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            package, _, version = line.partition("==")
            assert version, f"{name}: {line!r} is not pinned"
            pins[re.sub(r"[-_.]+", "-", package).lower()] = version
    return pins


def requirement_name(requirement: str) -> str:
    name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def test_run_installs_only_production_dependencies_pinned() -> None:
    rules = makefile_rules()
    for target in ("run", "console", "ingest"):
        assert rules[target][0] == "$(PROD)", target
    prod = " ".join(rules["$(PROD)"][1])
    assert "-c requirements.lock" in prod and "[dev" not in prod
    for target in ("test", "lint", "bench"):
        assert rules[target][0] == "$(DEV)", target
    dev = " ".join(rules["$(DEV)"][1])
    assert "-c requirements-dev.lock" in dev and "-e '.[dev,screenshot]'" in dev


def test_lock_files_pin_every_dependency_consistently() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prod, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    for requirement in project["dependencies"]:
        assert requirement_name(requirement) in prod, requirement
    for extra in ("dev", "screenshot"):
        for requirement in project["optional-dependencies"][extra]:
            assert requirement_name(requirement) in dev, requirement
    assert all(dev.get(name, version) == version for name, version in prod.items())
    assert "requirements.lock" in (ROOT / "Dockerfile").read_text()
