"""`python -m algrid` runs the CLI (used by SLURM scripts to pin the submitting interpreter)."""

from algrid.cli import main

main()
