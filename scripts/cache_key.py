"""Start a clean build when anything executed pages depend on, beyond their own code, has changed.

Usage: .venv/bin/python scripts/cache_key.py BUILD_DIR   (the Makefile runs it before every build)

The execution cache (jupyter-cache) re-executes a lecture only when its own code
changes. Its results also depend on the shared helpers, the pinned packages, the
recorded results and the machine that measured them. This script hashes the
*content* of those files together with lecture_utils.machine_fingerprint() and
keeps the hash beside the cache, in BUILD_DIR/.jupyter_cache/inputs.key. When the
hash differs, or is missing, BUILD_DIR is removed so that every lecture executes
again: a cached page never shows another machine's numbers under this machine's
description. Content, not file times, so a fresh checkout with a restored cache
and unchanged inputs re-executes nothing.
"""

import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lectures"))
import lecture_utils  # noqa: E402

INPUTS = ["lectures/lecture_utils.py", "requirements.txt"]


def input_files() -> list[Path]:
    return [ROOT / name for name in INPUTS] + sorted((ROOT / "lectures" / "data").glob("*.json"))


def cache_key() -> str:
    digest = hashlib.sha256()
    for path in input_files():
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(missing)")
    digest.update(b"machine\0" + lecture_utils.machine_fingerprint().encode())
    return digest.hexdigest()


def key_file(build: Path) -> Path:
    """Where the key lives: inside the execution cache, so that restoring the cache restores it."""
    return build / ".jupyter_cache" / "inputs.key"


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: cache_key.py BUILD_DIR")
    build = Path(sys.argv[1])
    stamp = key_file(build)
    key = cache_key()
    if stamp.exists() and stamp.read_text().strip() == key:
        return
    if build.exists():
        reason = "changed" if stamp.exists() else "unknown"
        print(
            f"cache_key: the helpers, pins, recorded results or machine are {reason} since the last build: "
            f"removing {build} so that every lecture executes again"
        )
        shutil.rmtree(build)
    stamp.parent.mkdir(parents=True)
    stamp.write_text(key + "\n")


if __name__ == "__main__":
    main()
