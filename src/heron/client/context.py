"""What a new run records about where it came from: user, source file, git commit."""

from __future__ import annotations

import functools
import getpass
import os
import subprocess
import sys


@functools.lru_cache(maxsize=1)
def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "unknown"


USER_ENV = "HERON_USER"


def acting_user() -> str:
    """Who registry changes are made as: HERON_USER, else the operating-system user."""
    return os.environ.get(USER_ENV, "").strip() or current_user()


def current_source() -> str:
    main = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if main and main not in ("-c", "-m") and os.path.exists(main):
        return os.path.abspath(main)
    return "<interactive>"


@functools.lru_cache(maxsize=8)
def git_commit(directory: str) -> str | None:
    """The HEAD commit of the repository holding ``directory``, with "-dirty" if it has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return f"{commit}-dirty" if status.stdout.strip() else commit


def source_git_commit(source: str) -> str | None:
    directory = os.path.dirname(source) if os.path.isfile(source) else os.getcwd()
    return git_commit(directory)
