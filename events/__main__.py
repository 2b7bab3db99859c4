"""``python -m events relay`` and ``python -m events consume MODULE``: the supervised event programs."""

from __future__ import annotations

import argparse
import asyncio

from events.runner import run_consumer, run_relay
from labs64.settings import CONSUMER_MODULES, SUBGRAPH_NAMES, get_settings
from subgraphs.kit import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m events", description="Run the outbox relay or a module's event consumer.")
    commands = parser.add_subparsers(dest="command", required=True)
    relay = commands.add_parser("relay", help="Publish the modules' outbox rows to Kafka.")
    relay.add_argument("--module", action="append", choices=SUBGRAPH_NAMES, help="Relay only this module's outbox (repeatable); all by default.")
    consume = commands.add_parser("consume", help="Apply other modules' events to one module's database.")
    consume.add_argument("module", choices=CONSUMER_MODULES)
    arguments = parser.parse_args()

    settings = get_settings()
    if arguments.command == "relay":
        configure_logging("events-relay")
        asyncio.run(run_relay(settings, tuple(arguments.module or SUBGRAPH_NAMES)))
    else:
        configure_logging(f"{arguments.module}-consumer")
        asyncio.run(run_consumer(settings, arguments.module))


if __name__ == "__main__":
    main()
