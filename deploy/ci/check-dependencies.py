#!/usr/bin/env python3
"""Fails when a workspace crate depends on a service it must not know (`just lint` runs it).

Services talk to each other over NATS, never through each other's library, so:
- a service (services/*) depends on no other service, not even as a dev- or build-dependency;
- a library crate (crates/*) depends on no service, except crates/e2e, whose tests start them all;
- dev tools (tools/*) may depend on anything.

Reads the workspace from `cargo metadata` (no network, no build); prints every offending edge.
"""

import json
import subprocess
import sys
from pathlib import Path

# Crates under crates/ that may depend on services, and why.
MAY_DEPEND_ON_SERVICES = {"crates/e2e": "end-to-end tests start every service in one process"}

KIND = {None: "dependency", "dev": "dev-dependency", "build": "build-dependency"}


def workspace() -> dict:
    command = ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"]
    try:
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as error:
        sys.stderr.write(error.stderr)
        sys.exit(f"check-dependencies: `{' '.join(command)}` failed")
    return json.loads(output)


def main() -> int:
    metadata = workspace()
    root = Path(metadata["workspace_root"])
    # Each member's directory relative to the root: "services/gateway", "crates/bus", ...
    members = {
        Path(package["manifest_path"]).parent.resolve(): package
        for package in metadata["packages"]
        if package["id"] in metadata["workspace_members"]
    }

    def place(directory: Path) -> str:
        return directory.relative_to(root).as_posix()

    problems = []
    for directory, package in sorted(members.items()):
        here = place(directory)
        for dependency in package["dependencies"]:
            target = Path(dependency["path"]).resolve() if dependency.get("path") else None
            if target is None or target not in members or target == directory:
                continue
            there = place(target)
            if not there.startswith("services/"):
                continue
            edge = (
                f"{here} ({package['name']}) has the service {there} ({members[target]['name']}) "
                f"as a {KIND.get(dependency['kind'], dependency['kind'])}"
            )
            if here.startswith("services/"):
                problems.append(
                    f"{edge}: a service must not depend on another service; they talk over NATS. "
                    "Move what both need into crates/*, or a test that needs both into crates/e2e."
                )
            elif here.startswith("crates/") and here not in MAY_DEPEND_ON_SERVICES:
                problems.append(
                    f"{edge}: a library crate must not depend on a service. "
                    "Move the code into the service, or a dev tool into tools/."
                )

    if problems:
        print("check-dependencies: forbidden dependencies between workspace crates:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"check-dependencies: {len(members)} workspace crates, none depends on a service it must not know")
    return 0


if __name__ == "__main__":
    sys.exit(main())
