"""The ``microcred`` command line (also ``python -m app``).

Subcommands: ``serve`` runs the HTTP service; ``sign`` and ``verify`` apply the proof engine to a
document from a file or standard input. Later subcommands join here; names stay stable.
Exit status: 0 success / verified, 1 not verified, 2 unusable input.
"""

from __future__ import annotations

import argparse
import sys


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.settings import get_settings

    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    print(f"microcred: serving on http://{host}:{port} with {workers} worker(s)", flush=True)
    # uvloop + httptools: the default asyncio loop lost TCP_NODELAY with several workers (performance-baseline.md).
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers, loop="uvloop", http="httptools", log_level="info")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microcred", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
