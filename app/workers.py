"""Several worker processes, each with its own listening socket on the same port (``SO_REUSEPORT``).

Why not uvicorn's ``--workers``: its workers share one listening socket, and whichever process wakes
first accepts a whole burst of connections. Keep-alive clients that connect together (a load balancer's
pool, a benchmark's 16 clients) then all land on one worker while the others idle: measured, one worker
at 100% CPU and the other at 0%, and half the machine's throughput. With ``SO_REUSEPORT`` every worker
listens on a socket of its own and the kernel spreads new connections across them by their address
hash (Linux ≥ 3.9; see socket(7)).

The parent only supervises: it starts the workers, restarts one that dies, and on SIGINT/SIGTERM stops
them all (each finishes its requests in flight: uvicorn's graceful shutdown). A worker whose supervisor
died (``kill -9``: no shutdown code runs) stops too, as a signing process of a batch does (app/batch.py):
left serving under PID 1 it kept the port, and a new ``serve`` on it bound beside the orphans.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from typing import Any

log = logging.getLogger("microcred.workers")


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` that other processes can bind too (``SO_REUSEPORT``), not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


#: prctl(2) option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1


def exit_with_supervisor(supervisor: int, *, poll: float = 1.0) -> None:
    """Stop this worker (SIGTERM: uvicorn's graceful shutdown) when ``supervisor`` is no longer its parent.

    On Linux the kernel tells at once (``prctl(PR_SET_PDEATHSIG)``, see prctl(2)); a thread that watches for
    re-parenting is the fallback elsewhere, and covers a supervisor that died before the prctl call. A worker
    that does not finish its graceful shutdown within 30 s is ended.
    """
    if os.getppid() != supervisor:
        os._exit(0)  # the supervisor died while this one was starting
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the watch below does it alone
        pass

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(poll)
        log.warning("the supervisor %s is gone; this worker stops", supervisor)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-supervisor", daemon=True).start()


def _worker(host: str, port: int, options: dict[str, Any], supervisor: int | None = None) -> None:
    import uvicorn

    from app.observability import configure_logging
    from app.settings import get_settings

    if supervisor is not None:
        exit_with_supervisor(supervisor)
    configure_logging(get_settings())
    sock = reuseport_socket(host, port)
    config = uvicorn.Config(host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])  # uvicorn (asyncio) calls listen() on it


def serve(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run ``workers`` uvicorn servers (``options``: uvicorn.Config arguments besides host and port)."""
    try:
        reuseport_socket(host, port).close()  # fail here, once, if the port is taken by someone else
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", host, port, exc)
        print(f"microcred: cannot listen on {host}:{port}: {exc.strerror or exc}", flush=True)
        return 1
    context = multiprocessing.get_context("spawn")
    stopping = False
    started: dict[int, float] = {}  # slot → when its process started
    delay: dict[int, float] = {}  # slot → wait before the next restart (doubles while it keeps dying young)

    def start(slot: int) -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(host, port, options, os.getpid()), name=f"microcred-worker-{slot}")
        process.start()
        started[slot] = time.monotonic()
        return process

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start(i) for i in range(workers)]
    restart_at: dict[int, float] = {}
    try:
        while not stopping:
            time.sleep(0.2)
            now = time.monotonic()
            for i, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                if i not in restart_at:
                    # One that dies within 10 s of starting (a bad setting, say) is restarted ever more slowly.
                    delay[i] = min(30.0, delay.get(i, 0.5) * 2) if now - started[i] < 10 else 0.0
                    restart_at[i] = now + delay[i]
                    log.warning("worker %s exited with %s; starting another in %.1f s", process.pid, process.exitcode, delay[i])
                if now >= restart_at[i]:
                    del restart_at[i]
                    processes[i] = start(i)
    finally:
        for process in processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in processes:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0
