"""`python -m gateway`: serve the gateway with uvicorn, configured from the environment.

The settings are parsed first: a malformed value ends start-up (exit status 2) with a
message naming the variable, before a port is bound."""
from __future__ import annotations

import uvicorn

from services.common import limits
from services.common.settings import exit_on_invalid

from . import settings as gateway_settings
from .app import configure_logging


def main() -> None:
    exit_on_invalid("percept gateway", gateway_settings.COMPONENT, limits.COMPONENT)
    settings = gateway_settings.GatewaySettings.from_env()
    configure_logging(settings.log_level)
    # Each worker builds its app (and parses the settings again) in the factory.
    uvicorn.run("gateway.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=settings.workers, log_level=settings.log_level, access_log=False,
                timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
