"""Reading a component's Prometheus /metrics page in tests, with prometheus-client's parser."""
from __future__ import annotations

import re
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(url: str, timeout_s: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read().decode()


def sample_total(text: str, name: str, labels: str | dict[str, str] = "") -> float | None:
    """The sum of the samples called `name` (e.g. `x_total`, `x_seconds_count`) whose labels
    include `labels` (`'k="v",...'` or a dict); None when there is no such sample."""
    wanted = dict(_LABEL.findall(labels)) if isinstance(labels, str) else labels
    # The parser names every counter sample `..._total`, also one exposed without it (Triton's).
    names = {name, name + "_total"}
    values = [sample.value for family in text_string_to_metric_families(text) for sample in family.samples
              if sample.name in names and wanted.items() <= sample.labels.items()]
    return sum(values) if values else None
