"""python -m services.codeperception: start the code-perception gRPC server.

Exit status: 0 after SIGTERM/SIGINT, 2 a malformed setting, 3 the backend cannot serve
(e.g. no Triton model implements the generation contract)."""
from __future__ import annotations

import asyncio
import logging
import sys

from services.common.limits import COMPONENT as LIMITS
from services.common.settings import exit_on_invalid

from .settings import COMPONENT, CodePerceptionSettings


def main() -> int:
    exit_on_invalid("percept-codeperception", COMPONENT, LIMITS)
    settings = CodePerceptionSettings.from_env()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    from .server import serve

    return asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
