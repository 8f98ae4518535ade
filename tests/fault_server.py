"""A loopback OpenAI-compatible server that misbehaves on purpose, for tests and benchmarks.

Serves ``POST /v1/completions`` and ``POST /v1/chat/completions`` over a minimal HTTP/1.1
(keep-alive) on 127.0.0.1. With probability ``fault_rate`` a request gets one of
:data:`FAULTS` instead of an answer. Every request is counted per prompt (prompt text or
chat messages, plus the seed), so tests can prove that nothing was asked twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

#: 429 + Retry-After, server errors, a reply slower than the client's timeout, a 200 whose
#: body is not JSON, and a connection closed without a reply.
FAULTS = ("429", "500", "503", "slow", "malformed", "drop")
#: A prompt containing this gets a 400 whose message echoes the Authorization header (a
#: careless server): the client must not write that anywhere.
ECHO_AUTH = "ECHO-AUTH"


def letter_answer(prompt: str) -> str:
    """Deterministic CoT-style answer: option A or B, chosen by the prompt's checksum."""
    return f" Some reasoning here. So the answer is ({'AB'[zlib.crc32(prompt.encode()) % 2]})."


@dataclass
class FaultServer:
    """The server; ``start()`` runs it on its own thread, ``stop()`` ends it."""

    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    latency: float = 0.0
    slow_seconds: float = 3.0
    retry_after: str = "0.05"
    seed: int = 0
    answer: Callable[[str], str] = letter_answer
    #: requests received, per prompt (+ seed); replies that completed a request, per prompt;
    #: fault or "ok" per request; every request body.
    counts: Counter = field(default_factory=Counter)
    served: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    bodies: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        """Base URL for an OpenAI client."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FaultServer:
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self._thread.start()
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                body = json.loads(await reader.readexactly(int(headers.get("content-length", 0))) or b"{}")
                status, extra, payload = await self._respond(path, headers, body)
                if status == 0:  # drop: close without a reply
                    writer.transport.abort()
                    return
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                reason = {
                    200: "OK",
                    400: "Bad Request",
                    429: "Too Many Requests",
                    500: "Internal Server Error",
                    503: "Service Unavailable",
                }[status]
                hdrs = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n{hdrs}\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    async def _respond(self, path: str, headers: dict, body: dict) -> tuple[int, dict, object]:
        chat = path.endswith("/chat/completions")
        prompt = json.dumps(body.get("messages"), sort_keys=True) if chat else body.get("prompt", "")
        key = f"{prompt}|seed={body.get('seed')}"
        self.counts[key] += 1
        self.bodies.append(body)
        if ECHO_AUTH in prompt:
            self.outcomes["echo"] += 1
            return 400, {}, {"error": {"message": f"bad request from {headers.get('authorization')}"}}
        if self._rng.random() < self.fault_rate:
            fault = self._rng.choice(self.faults)
            self.outcomes[fault] += 1
            if fault == "429":
                return 429, {"Retry-After": self.retry_after}, {"error": {"message": "rate limited"}}
            if fault in ("500", "503"):
                return int(fault), {}, {"error": {"message": "server error"}}
            if fault == "drop":
                return 0, {}, None
            if fault == "malformed":
                return 200, {}, b'{"choices": [{"text": "trunc'
            await asyncio.sleep(self.slow_seconds)  # slow: past the client's timeout, nobody reads it
            return 200, {}, self._completion(chat, prompt, body)
        self.outcomes["ok"] += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        self.served[key] += 1
        return 200, {}, self._completion(chat, prompt, body)

    def _completion(self, chat: bool, prompt: str, body: dict) -> dict:
        text = self.answer(prompt)
        usage = {
            "prompt_tokens": len(prompt.split()),
            "completion_tokens": len(text.split()),
            "total_tokens": len(prompt.split()) + len(text.split()),
        }
        choice = (
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            if chat
            else {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}
        )
        return {
            "id": "x",
            "object": "chat.completion" if chat else "text_completion",
            "created": 0,
            "model": body.get("model"),
            "choices": [choice],
            "usage": usage,
        }


def main() -> None:
    """``python tests/fault_server.py [latency] [fault_rate]``: serve until killed; prints the URL."""
    import sys

    latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    server = FaultServer(latency=latency, fault_rate=rate).start()
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
