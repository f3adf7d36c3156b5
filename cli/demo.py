"""`liandai demo`: the main story, end to end, on a dev home."""

from __future__ import annotations

import click

from cli.context import App, pass_app, say


@click.command(epilog="Example: liandai --home /tmp/liandai-demo demo")
@pass_app
def demo(app: App) -> None:
    """Set up a dev consortium (if the home is empty) and run the main story."""
    from ledger.demo import run_demo

    if app.rpc:
        from ledger.errors import BadInput

        raise BadInput("the demo runs on the embedded chain; drop --rpc")
    say(f"liandai demo in {app.home.root}")
    run_demo(app.home, say).close()
