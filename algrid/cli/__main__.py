"""`python -m algrid.cli` runs the CLI."""

from algrid.cli import main

main()
