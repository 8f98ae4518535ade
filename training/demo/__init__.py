"""The offline demo: tiny models, the demo teacher and its local server, the demo recipe and data."""
