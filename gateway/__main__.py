"""`python -m gateway`: serve the gateway with uvicorn, configured from the environment.

The settings are parsed first: a malformed value ends start-up (exit status 2) with a
message naming the variable, before a port is bound."""
from __future__ import annotations

import sys

import uvicorn

from services.common.settings import SettingsError

from . import settings as gateway_settings
from .app import configure_logging


def main() -> None:
    try:
        settings = gateway_settings.GatewaySettings.from_env()
    except SettingsError as exc:
        print(f"percept gateway: invalid configuration, not starting:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level)
    # Each worker builds its app (and parses the settings again) in the factory.
    uvicorn.run("gateway.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level=settings.log_level, access_log=False,
                timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
