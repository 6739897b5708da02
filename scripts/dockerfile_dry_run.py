#!/usr/bin/env python3
"""Runs the Dockerfile's instructions outside a container, so a broken build step is caught
where no Docker engine runs.

Each stage gets its own folder that plays the container's root. COPY copies from the build
context as .dockerignore filters it (or from an earlier stage's folder), WORKDIR moves inside
the stage's folder, and RUN runs the same shell command there (its --mount options dropped).
The final stage's folder is the image: its ENTRYPOINT must exist and answer --version.

Usage: dockerfile_dry_run.py WORKDIR [--skip-stage NAME]...
Environment passed to every RUN: CARGO_TARGET_DIR (a warm target dir), TESTMESH_BUILD_PROFILE.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class DockerfileError(Exception):
    """A Dockerfile instruction this dry run cannot carry out, with its line number."""


def instructions(dockerfile: Path) -> list[tuple[int, str, str]]:
    """(line number, keyword, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[int, str, str]] = []
    pending = ""
    start = 0
    for number, line in enumerate(dockerfile.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        keyword, _, arguments = pending.partition(" ")
        result.append((start, keyword.upper(), arguments.strip()))
        pending = ""
    return result


def ignore_rules(dockerignore: Path) -> list[tuple[bool, str]]:
    """(excluded?, pattern) in file order; the last matching rule wins, as Docker does."""
    rules = []
    for line in dockerignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        rules.append((not negated, pattern.strip("/")))
    return rules


def excluded(relative: str, rules: list[tuple[bool, str]]) -> bool:
    """Whether a context path is left out: a rule matches the path or one of its parents."""
    verdict = False
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for is_exclusion, pattern in rules:
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            verdict = is_exclusion
    return verdict


def left_out_whole(relative_dir: str, rules: list[tuple[bool, str]]) -> bool:
    """A folder excluded with nothing under it let back in: not walked at all (node_modules)."""
    if relative_dir in (".git", "target"):
        return True
    let_back = any(
        not is_exclusion and pattern.startswith(relative_dir + "/") for is_exclusion, pattern in rules
    )
    return excluded(relative_dir, rules) and not let_back


def build_context(destination: Path) -> None:
    """Copies the files Docker would send as the build context."""
    rules = ignore_rules(ROOT / ".dockerignore")
    for directory, subdirs, files in os.walk(ROOT):
        relative_dir = Path(directory).relative_to(ROOT)
        subdirs[:] = [
            d for d in subdirs if not left_out_whole((relative_dir / d).as_posix(), rules)
        ]
        for name in files:
            relative = (relative_dir / name).as_posix()
            if not excluded(relative, rules):
                target = destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(directory) / name, target)


def copy_into(sources: list[Path], destination: Path, line: int) -> None:
    """COPY semantics: a folder's contents are copied; several sources need a folder target."""
    for source in sources:
        if not source.exists():
            raise DockerfileError(f"line {line}: COPY source {source} does not exist")
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True, symlinks=True)
        else:
            into_dir = len(sources) > 1 or str(destination).endswith("/") or destination.is_dir()
            target = destination / source.name if into_dir else destination
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


# What gcr.io/distroless/cc-debian12 provides: glibc, libgcc and libstdc++. Nothing else may be
# linked (in particular no OpenSSL: TLS is rustls with aws-lc-rs, built in).
RUNTIME_LIBRARIES = re.compile(
    r"(linux-vdso|ld-linux-[\w-]+|libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+)\.so[.\d]*"
)


def check_shared_libraries(binary: Path) -> None:
    """The image's binary must need only the libraries the runtime base image has."""
    linked = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True)
    names = [line.split()[0].rsplit("/", 1)[-1] for line in linked.stdout.splitlines() if line.strip()]
    foreign = [name for name in names if not RUNTIME_LIBRARIES.fullmatch(name)]
    if foreign:
        raise DockerfileError(f"the binary links libraries the runtime image lacks: {foreign}")
    print(f"   links only {', '.join(names)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--skip-stage", action="append", default=[])
    args = parser.parse_args()

    context = args.workdir / "context"
    build_context(context)
    stages: dict[str, Path] = {}
    stage_root: Path | None = None
    stage_name = ""
    workdir = "/"
    skipping = False
    entrypoint: list[str] = []
    for line, keyword, arguments in instructions(ROOT / "Dockerfile"):
        if keyword == "FROM":
            words = arguments.split()
            stage_name = words[2] if len(words) == 3 and words[1].upper() == "AS" else "final"
            stage_root = args.workdir / "stages" / stage_name
            stage_root.mkdir(parents=True)
            stages[stage_name] = stage_root
            workdir = "/"
            skipping = stage_name in args.skip_stage
            print(f"== stage {stage_name}" + (" (skipped)" if skipping else ""), flush=True)
            continue
        if stage_root is None:
            if keyword != "ARG":
                raise DockerfileError(f"line {line}: {keyword} before the first FROM")
            continue
        if keyword == "WORKDIR":
            workdir = arguments if arguments.startswith("/") else f"{workdir}/{arguments}"
            (stage_root / workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            words = shlex.split(arguments)
            origin = context
            while words and words[0].startswith("--"):
                option = words.pop(0)
                if option.startswith("--from="):
                    source_stage = option.split("=", 1)[1]
                    if source_stage in args.skip_stage:
                        print(f"   line {line}: COPY from skipped stage {source_stage}")
                        origin = None
                        break
                    origin = stages[source_stage]
            if origin is None or skipping:
                continue
            *sources, destination = words
            source_paths = [origin / s.lstrip("/") for s in sources]
            dest = destination if destination.startswith("/") else f"{workdir}/{destination}"
            target = stage_root / dest.lstrip("/")
            if destination.endswith("/"):
                target.mkdir(parents=True, exist_ok=True)
            copy_into(source_paths, target, line)
        elif keyword == "RUN":
            if skipping:
                continue
            words = arguments.split(" ")
            while words and words[0].startswith("--"):
                words.pop(0)
            command = " ".join(words).strip()
            cwd = stage_root / workdir.lstrip("/")
            print(f"   line {line}: RUN {command}", flush=True)
            completed = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd)
            if completed.returncode != 0:
                raise DockerfileError(f"line {line}: RUN {command} exited {completed.returncode}")
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(arguments)
    final = stages.get("final")
    if final is None or not entrypoint:
        raise DockerfileError("the Dockerfile has no final stage with an exec-form ENTRYPOINT")
    binary = final / entrypoint[0].lstrip("/")
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    if version.returncode != 0:
        raise DockerfileError(f"the image's entrypoint {entrypoint[0]} does not run: {version.stderr}")
    print(f"== image: {entrypoint[0]} answers '{version.stdout.strip()}'")
    check_shared_libraries(binary)
    for path in sorted(p for p in final.rglob("*") if p.is_file())[:20]:
        print(f"   {path.relative_to(final)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except DockerfileError as err:
        print(f"Dockerfile check failed: {err}", file=sys.stderr)
        sys.exit(1)
