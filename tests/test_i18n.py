"""Every msgid has a Finnish and a Swedish translation, none fuzzy, and the .mo files are current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ["config", "accounts", "workshops", "facilitation", "reports", "privacy", "templates", "static"]
LANGUAGES = ["fi", "sv"]

pytestmark = pytest.mark.skipif(shutil.which("msgattrib") is None, reason="gettext tools missing (make test installs)")


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory) -> Path:
    """Run makemessages on a copy of the source, merging into copies of our .po files."""
    work = tmp_path_factory.mktemp("i18n")
    for name in [*SOURCE_DIRS, "locale"]:
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", work / "manage.py")
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-location",
            *[arg for lang in LANGUAGES for arg in ("-l", lang)],
        ],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return work


def _entries(po: Path, flag: str) -> str:
    return subprocess.run(["msgattrib", flag, str(po)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgid_is_translated_and_not_fuzzy(fresh_catalogs, language):
    po = fresh_catalogs / "locale" / language / "LC_MESSAGES" / "django.po"
    untranslated = _entries(po, "--untranslated")
    fuzzy = _entries(po, "--only-fuzzy")
    assert untranslated == "", f"untranslated in {language} (run `make messages` and translate):\n{untranslated}"
    assert fuzzy == "", f"fuzzy in {language}:\n{fuzzy}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_committed_po_is_up_to_date_and_mo_is_compiled_from_it(fresh_catalogs, tmp_path, language):
    committed = ROOT / "locale" / language / "LC_MESSAGES"
    fresh_ids = _msgids(fresh_catalogs / "locale" / language / "LC_MESSAGES" / "django.po")
    assert fresh_ids == _msgids(committed / "django.po"), "run `make messages`: the .po lacks or keeps stale strings"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(committed / "django.po")], check=True)
    assert compiled.read_bytes() == (committed / "django.mo").read_bytes(), "run `make messages` to recompile .mo"


def _msgids(po: Path) -> set[str]:
    listing = subprocess.run(
        ["msgattrib", "--no-obsolete", "--no-wrap", "--no-location", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in listing.splitlines() if line.startswith(("msgid ", "msgid_plural ", "msgctxt "))}
