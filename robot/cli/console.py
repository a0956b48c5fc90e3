"""Shared rich consoles: stdout for results, stderr for progress and errors."""

from rich.console import Console

out = Console()
err = Console(stderr=True)
