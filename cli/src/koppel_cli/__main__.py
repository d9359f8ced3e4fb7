"""`python -m koppel_cli`: the same as the `koppel` command."""

from .main import main

main()
