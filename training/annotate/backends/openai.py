"""Teacher behind any OpenAI-compatible endpoint (OpenAI, a vLLM server, ``transformers serve``).

``C`` asyncio workers share one iterator of jobs, so at most ``C`` requests are in flight
and a new one starts the moment one finishes. The client's own retries are off: this
module retries itself so that every attempt is counted and each policy below is explicit.

- Retried: 408, 409, 429 (waiting at least ``Retry-After``), every 5xx, timeouts (the
  per-request timeout bounds the whole request), dropped connections, and 2xx replies that
  are not a valid completion (malformed JSON, no choices). Waits grow exponentially from
  ``backoff_base`` with jitter, up to ``backoff_cap``.
- Not retried: every other 4xx (bad request, auth, unknown model) -- it would fail again.
- After the last attempt, or a non-retryable error, the job's outcome is a failure with
  the error text (the API key redacted), never an exception out of the run.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from training.annotate.backends import OnResult, Result, require
from training.annotate.jobs import Job

#: Status codes worth retrying besides 5xx: request timeout, conflict, rate limit.
RETRY_STATUS = frozenset({408, 409, 429})
#: Request field vLLM's server reads to continue the last (assistant) message.
CONTINUE_FIELDS = {"continue_final_message": True, "add_generation_prompt": False}


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = first retry).

    Exponential ``base * 2**(attempt-1)`` capped at ``cap``, with "equal jitter" (a random
    point in its upper half) so that workers throttled together do not return together.
    A server's ``Retry-After`` is a floor, plus jitter of up to ``base``.

    >>> rng = random.Random(0)
    >>> [0.5 <= backoff_delay(1, 1.0, 30, None, rng) <= 1.0, backoff_delay(20, 1.0, 30, None, rng) <= 30]
    [True, True]
    >>> 5.0 <= backoff_delay(1, 1.0, 30, 5.0, rng) <= 6.0
    True
    """
    if retry_after is not None:
        return min(cap, retry_after) + rng.uniform(0, base)
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


def parse_retry_after(headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds; HTTP dates are ignored).

    >>> parse_retry_after({"retry-after": "2"}), parse_retry_after({"retry-after-ms": "150"})
    (2.0, 0.15)
    >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    True
    """
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name) if headers is not None else None
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


def classify(exc: BaseException) -> tuple[bool, float | None]:
    """Whether an exception from a request is worth retrying, and the server's wait hint."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry = status in RETRY_STATUS or status >= 500
        return retry, parse_retry_after(exc.response.headers) if retry else None
    # Timeouts, dropped connections, unparsable replies (APIResponseValidationError and the
    # JSON errors the client lets through), our own checks of the reply.
    return isinstance(exc, (openai.APIConnectionError, openai.APIResponseValidationError, asyncio.TimeoutError,
                            ValueError, TypeError, KeyError, IndexError, AttributeError)), None


def http_client(timeout: float):
    """openai's aiohttp transport when aiohttp is installed, else None (its default, httpx).

    aiohttp costs about 1.5 ms of CPU per request against httpx's 2.4 (measured here at
    C=64), and httpx's pool scans every connection for each request; CPU per request is
    what caps throughput once C / latency is high.
    """
    import openai

    try:
        import aiohttp  # noqa: F401 -- only probing for the optional transport
    except ImportError:
        return None
    aio = getattr(openai, "DefaultAioHttpClient", None)  # openai >= 1.87
    return aio(timeout=timeout) if aio else None


@dataclass
class OpenAIBackend:
    """Async OpenAI-compatible teacher.

    Attributes:
        model: Model name sent with every request.
        base_url: Endpoint (None: OpenAI's).
        api_key: The key, read from the environment by the caller; never stored or printed.
        concurrency: Requests in flight at most (C).
        timeout: Seconds one attempt may take, end to end.
        max_attempts: Attempts per job before it is recorded as failed.
        backoff_base: First retry waits about this long (seconds).
        backoff_cap: No wait is longer (seconds).
        seed: Seed of the jitter.
    """

    model: str
    base_url: str | None
    api_key: str = field(repr=False)  # never in a repr, a log or a traceback's locals summary
    concurrency: int = 16
    timeout: float = 120.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    seed: int = 0
    name: str = "openai"

    def __post_init__(self) -> None:
        require("openai", "pip install 'aligncot[api]'")
        if self.concurrency < 1 or self.max_attempts < 1 or self.timeout <= 0:
            raise ValueError("concurrency and max_attempts must be >= 1, timeout > 0")

    def redact(self, text: str) -> str:
        """``text`` with the API key masked (servers may echo it in errors)."""
        return text.replace(self.api_key, "***") if self.api_key else text

    def run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        """Answer every job with at most ``concurrency`` requests in flight."""
        asyncio.run(self._run(jobs, on_result))

    async def _run(self, jobs: Sequence[Job], on_result: OnResult) -> None:
        import openai

        client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0, timeout=self.timeout,
                                    http_client=http_client(self.timeout))
        rng = random.Random(self.seed)
        shared: Iterator[Job] = iter(jobs)

        async def worker() -> None:
            for job in shared:  # one iterator shared by all workers: each job is taken once
                on_result(job, await self._answer(client, job, rng))

        async with client:
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(jobs)))))

    async def _answer(self, client, job: Job, rng: random.Random) -> Result:
        started = time.time()
        for attempt in range(1, self.max_attempts + 1):
            try:
                result = await asyncio.wait_for(self._request(client, job), self.timeout)
                return Result(**result, attempts=attempt, started_at=started, finished_at=time.time())
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 -- classified below, never escapes
                retry, retry_after = classify(exc)
                detail = f"no reply within {self.timeout:g}s" if isinstance(exc, asyncio.TimeoutError) else exc
                error = self.redact(f"{type(exc).__name__}: {detail}")[:500]
                if not retry or attempt == self.max_attempts:
                    return Result(None, error=error, attempts=attempt, started_at=started, finished_at=time.time())
                await asyncio.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap, retry_after, rng))
        raise AssertionError("unreachable")

    async def _request(self, client, job: Job) -> dict:
        p = job.params
        common = {"model": self.model, "max_tokens": p.max_tokens, "temperature": p.temperature, "stop": list(p.stop)}
        if job.seed is not None:
            common["seed"] = job.seed
        if isinstance(job.prompt, str):
            reply = await client.completions.create(prompt=job.prompt, **common)
            text = reply.choices[0].text
        else:
            extra = CONTINUE_FIELDS if job.continue_final else None
            reply = await client.chat.completions.create(messages=job.prompt, extra_body=extra, **common)
            text = reply.choices[0].message.content
        if not isinstance(text, str):
            raise ValueError(f"reply has no completion text: {reply!r:.200}")
        usage = reply.usage
        return {
            "text": text,
            "finish_reason": reply.choices[0].finish_reason,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
        }


def make_backend(**options) -> OpenAIBackend:
    """Backend factory used by :func:`training.annotate.backends.load_backend`."""
    return OpenAIBackend(**options)
