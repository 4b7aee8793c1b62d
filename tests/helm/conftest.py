"""Renders shared by the chart's tests: default values, the production example, everything on."""
from __future__ import annotations

import pytest

from tests.helm.chart import EVERYTHING, PRODUCTION, template


@pytest.fixture(scope="session")
def default_objects() -> list[dict]:
    return template()


@pytest.fixture(scope="session")
def production_objects() -> list[dict]:
    return template("-f", str(PRODUCTION))


@pytest.fixture(scope="session")
def all_objects() -> list[dict]:
    return template(*EVERYTHING)


@pytest.fixture(scope="session", params=["default", "production", "everything"])
def rendered(request, default_objects, production_objects, all_objects) -> list[dict]:
    return {"default": default_objects, "production": production_objects, "everything": all_objects}[request.param]
