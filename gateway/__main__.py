"""`python -m gateway`: serve the gateway with uvicorn, configured from the environment."""
from __future__ import annotations

import uvicorn

from . import settings
from .app import configure_logging


def main() -> None:
    configure_logging()
    uvicorn.run("gateway.app:create_app", factory=True, host=settings.HOST.get(), port=settings.PORT.get(),
                workers=settings.WORKERS.get(), log_level=settings.LOG_LEVEL.get(), access_log=False,
                timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
