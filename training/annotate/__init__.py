"""Teacher annotation (``aligncot annotate``): jobs, backends, the crash-safe store, the loop."""
