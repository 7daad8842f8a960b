"""Import every module under backend/ and report the ones that fail (.ci/first-run runs it with the virtualenv that
`make run` made, which holds the runtime dependencies only). A file, not stdin: backend.main starts the hashing
pool, whose spawned processes re-import the main module."""

import importlib
import pkgutil

import backend


def main() -> int:
    failed = []
    modules = [m.name for m in pkgutil.walk_packages(backend.__path__, "backend.")]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            failed.append(f"{name}: {exc!r}")
    for line in failed:
        print("  cannot import", line)
    print(f"  imported {len(modules) - len(failed)} of {len(modules)} modules under backend/")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
