"""`jobber-robot mock jobber|gateway`: run the test world's servers by hand."""

from __future__ import annotations

import functools
from pathlib import Path

import typer

from fixtures.gateway_sandbox import server as gateway_sandbox
from fixtures.jobber_site import server as jobber_site
from fixtures.jobber_site.hosts import Hosts
from robot import serving

app = typer.Typer(help="Run the mock Jobber site or the sandbox gateway.", no_args_is_help=True)


@app.command("jobber")
def jobber(
    port: int = typer.Option(8765, help="Port to listen on"),
    host: str = typer.Option("127.0.0.1", help="Interface to bind"),
    data_dir: Path = typer.Option(Path(".data/mock-jobber"), help="Where the site keeps its SQLite database"),
    scenario: str = typer.Option("demo", help="Scenario to seed when the database is new"),
    domain: str = typer.Option("localhost", help="Hosts are login.<domain> (sign-in) and secure.<domain> (app); "
                                                 "browsers resolve *.localhost to this machine by themselves"),
) -> None:
    """Start the mock Jobber site: its identity and app hosts on one port (and the /_mock/ admin API)."""
    hosts = Hosts(domain)

    def addresses(base: str) -> list[str]:
        bound = base.rsplit(":", 1)[1]  # the port really bound (--port 0: a free one)
        return [f"Mock Jobber app:      http://{hosts.app}:{bound}/",
                f"Mock Jobber sign-in:  http://{hosts.identity}:{bound}/",
                f"Admin API:            {base}/_mock/state"]

    jobber_site.serve(host=host, port=port, data_dir=data_dir, scenario=scenario, domain=domain,
          runner=functools.partial(serving.run, announce=addresses))


@app.command("gateway")
def gateway(
    port: int = typer.Option(8766, help="Port to listen on"),
    host: str = typer.Option("127.0.0.1", help="Interface to bind"),
    data_dir: Path = typer.Option(Path(".data/gateway-sandbox"), help="Where the sandbox keeps its SQLite database"),
    scenario: str = typer.Option("demo", help="Scenario to seed when the database is new"),
) -> None:
    """Start the sandbox payment gateway (with its /_sandbox/ admin API)."""
    gateway_sandbox.serve(host=host, port=port, data_dir=data_dir, scenario=scenario, runner=functools.partial(
        serving.run, announce=lambda base: [f"Sandbox gateway API:  {base}/v1/", f"Admin API:            {base}/_sandbox/state"]))
