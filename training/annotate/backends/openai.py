"""Teacher behind any OpenAI-compatible endpoint (OpenAI, a vLLM server, ``transformers serve``).

``C`` asyncio workers share one iterator of jobs, so at most ``C`` requests are in flight
and a new one starts the moment one finishes. Retries are tenacity's (the library lm-eval's
API models use), not the client's, so that every attempt is counted and the policy below,
which also covers replies the client would accept, is explicit.

- Retried: 408, 409, 429 (waiting at least ``Retry-After``), every 5xx, timeouts (the
  per-request timeout bounds the whole request), dropped connections, and 2xx replies that
  are not a valid completion (malformed JSON, no choices). Waits grow exponentially from
  ``backoff_base`` with full jitter, up to ``backoff_cap``.
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
    return isinstance(
        exc,
        (
            openai.APIConnectionError,
            openai.APIResponseValidationError,
            asyncio.TimeoutError,
            ValueError,
            TypeError,
            KeyError,
            IndexError,
            AttributeError,
        ),
    ), None


def describe(exc: BaseException, timeout: float, base_url: str | None) -> str:
    """One line for a failed request; a refused connection is named as such.

    openai's aiohttp transport reports a refused connection as ``APITimeoutError`` (it maps
    aiohttp's connector error to a connect timeout), which sends a user looking for a slow
    server instead of a missing one; the refusal is still in the exception's chain.

    >>> describe(RuntimeError("x"), 2.0, None)
    'RuntimeError: x'
    >>> err = RuntimeError("Request timed out."); err.__cause__ = ConnectionRefusedError(111, "refused")
    >>> describe(err, 2.0, "http://127.0.0.1:9/v1")
    'connection refused by http://127.0.0.1:9/v1 (is the server running?)'
    """
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        if isinstance(link, ConnectionRefusedError):
            return f"connection refused by {base_url or 'the OpenAI API'} (is the server running?)"
        seen.add(id(link))
        link = link.__cause__ or link.__context__
    if isinstance(exc, asyncio.TimeoutError):
        return f"{type(exc).__name__}: no reply within {timeout:g}s"
    return f"{type(exc).__name__}: {exc}"


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
    """

    model: str
    base_url: str | None
    api_key: str = field(repr=False)  # never in a repr, a log or a traceback's locals summary
    concurrency: int = 16
    timeout: float = 120.0
    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    name: str = "openai"

    def __post_init__(self) -> None:
        require("openai", "pip install 'aligncot[api]'")
        require("tenacity", "pip install 'aligncot[api]'")
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

        client = openai.AsyncOpenAI(
            api_key=self.api_key,
            base_url=self.base_url,
            max_retries=0,
            timeout=self.timeout,
            http_client=http_client(self.timeout),
        )
        shared: Iterator[Job] = iter(jobs)

        async def worker() -> None:
            for job in shared:  # one iterator shared by all workers: each job is taken once
                on_result(job, await self._answer(client, job))

        async with client:
            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(jobs)))))

    def wait(self, state) -> float:
        """Seconds before the next attempt (tenacity ``wait``): the server's ``Retry-After`` as a
        floor (plus jitter of up to ``backoff_base``), else exponential backoff with full jitter."""
        import tenacity

        hint = classify(state.outcome.exception())[1]
        if hint is not None:
            return min(self.backoff_cap, hint) + random.uniform(0, self.backoff_base)
        return tenacity.wait_random_exponential(multiplier=self.backoff_base, max=self.backoff_cap)(state)

    async def _answer(self, client, job: Job) -> Result:
        import tenacity

        started, attempt = time.time(), 0
        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self.wait,
            retry=tenacity.retry_if_exception(lambda e: classify(e)[0]),
            reraise=True,
        )
        try:
            async for attempt_manager in retrying:
                with attempt_manager:
                    attempt = attempt_manager.retry_state.attempt_number
                    result = await asyncio.wait_for(self._request(client, job), self.timeout)
        except Exception as exc:  # noqa: BLE001 -- the job's outcome, never an exception out of the run
            error = self.redact(describe(exc, self.timeout, self.base_url))[:500]
            return Result(None, error=error, attempts=attempt, started_at=started, finished_at=time.time())
        return Result(**result, attempts=attempt, started_at=started, finished_at=time.time())

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
