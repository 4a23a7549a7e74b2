"""The reading process behind :class:`xl_duban.io.guard.ReadWorker` (``python -m xl_duban.io.read_worker LIMIT [MODULE…]``).

It reads length-prefixed pickled requests ``(function, [pickled args, …])`` on stdin and answers each
call of a request on stdout as soon as it is done, until stdin closes — which also happens
when the command that started it is killed, so it never outlives its parent. Only our own
processes speak on these pipes.
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import sys

HEADER = struct.Struct("<Q")


def limit_memory(limit: int) -> None:
    """Cap this process's address space (POSIX); Windows has no rlimits."""
    try:
        import resource
    except ImportError:
        return
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        pass


def read_exactly(stream, size: int) -> bytes | None:
    data = stream.read(size)
    return data if data is not None and len(data) == size else None


def main() -> None:
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the replies
    limit_memory(int(sys.argv[1]))
    for module in sys.argv[2:]:  # the readers it will be asked to run, imported before the first request
        importlib.import_module(module)
    requests = sys.stdin.buffer
    while True:
        head = read_exactly(requests, HEADER.size)
        if head is None:
            return
        body = read_exactly(requests, HEADER.unpack(head)[0])
        if body is None:
            return
        try:
            fn, calls = pickle.loads(body)
        except BaseException as exc:  # noqa: BLE001 - e.g. a function this process cannot import
            reply(replies, (False, exc))
            continue
        for packed in calls:  # each answered at once: the caller times and blames every call on its own
            try:
                result = (True, fn(*pickle.loads(packed)))
            except BaseException as exc:  # noqa: BLE001 - every failure is reported to the caller
                result = (False, exc)
            reply(replies, result)


def reply(replies, result: tuple[bool, object]) -> None:
    try:
        data = pickle.dumps(result)
    except Exception as exc:  # noqa: BLE001 - an exception that cannot travel
        data = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    replies.write(HEADER.pack(len(data)) + data)
    replies.flush()


if __name__ == "__main__":
    main()
