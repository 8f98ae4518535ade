"""``python -m training`` == ``aligncot``."""

from training.cli import main

main()
