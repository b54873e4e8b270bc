"""MIME parsing of big messages in a worker process with a memory bound.

Python's `email` parser needs several times a message's size in memory (a 24 MB message takes
about 190 MB to parse), and a hostile message can need more. A message of `PROCESS_FROM` bytes or
more is parsed in a separate process whose address space is capped with
`resource.setrlimit(RLIMIT_AS)`; the intake process only ever holds the raw bytes and the result.
A parse that runs out of memory there (MemoryError, or the worker dying) does not take the server
down: the message is read again from its first `FALLBACK_BYTES` only, with a defect recorded.
Smaller messages are parsed in a thread (their memory is bounded by their size, which the SMTP
server caps at `INTAKE_MAX_MESSAGE_BYTES`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from mail.parse import ParsedMessage, parse_message

log = logging.getLogger(__name__)
PROCESS_FROM = 1 << 20  # bytes: smaller messages are parsed in a thread
MEMORY_LIMIT = 1 << 30  # bytes of address space for the parsing process
FALLBACK_BYTES = 1 << 20  # what is read of a message that did not fit in the bound

_pool: ProcessPoolExecutor | None = None
_limit = MEMORY_LIMIT


def _bound(limit: int) -> None:
    """In the worker process: cap its address space (soft and hard)."""
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _parse_in_worker(raw: bytes) -> ParsedMessage | None:
    """In the worker process: the parsed message and this process's peak RSS, None when the
    parse ran out of memory."""
    try:
        out = parse_message(raw)
    except MemoryError:
        return None
    out.worker_peak_kb = peak_rss_kb()
    return out


def peak_rss_kb() -> int:
    """This process's peak resident memory (KiB): VmHWM, which starts afresh with the process's
    own address space (ru_maxrss would carry the peak of the process that spawned it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def configure(limit: int) -> None:
    """Set the address-space bound of the parsing process (from the next pool on)."""
    global _limit
    if limit != _limit:
        shutdown()
        _limit = limit


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:  # spawn: a fresh interpreter, not a fork of a process with threads and a loop
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_bound, initargs=(_limit,))
    return _pool


def shutdown() -> None:
    """Stop the parsing process (the next big message starts another)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


async def parse_bounded(raw: bytes) -> ParsedMessage:
    """`parse_message(raw)` off the event loop, in bounded memory (see the module docstring)."""
    if len(raw) < PROCESS_FROM:
        return await asyncio.to_thread(parse_message, raw)
    loop = asyncio.get_running_loop()
    try:
        parsed = await loop.run_in_executor(_get_pool(), _parse_in_worker, raw)
    except BrokenProcessPool:
        shutdown()
        parsed = None
    if parsed is not None:
        log.info("parsed %d bytes in the worker process (peak RSS %d MB)", len(raw), (parsed.worker_peak_kb or 0) // 1024)
        return parsed
    log.warning("a message of %d bytes did not fit in the parse memory bound; reading its first %d bytes", len(raw), FALLBACK_BYTES)
    out = await asyncio.to_thread(parse_message, raw[:FALLBACK_BYTES])
    out.defects.insert(0, f"over the parse memory bound: only the first {FALLBACK_BYTES} bytes were read")
    return out
