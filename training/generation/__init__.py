"""The one place models generate text: batched HF, vLLM, and the stop-sequence cut."""
