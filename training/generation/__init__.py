"""The one place models generate text: the continuous-batching engine (and its lm-eval backend), vLLM, the stop cut."""
