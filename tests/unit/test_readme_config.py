"""The README's configuration table is generated from the env-var declarations."""
import re
from pathlib import Path

from services.settings_docs import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_configuration_table_is_current():
    text = README.read_text()
    match = re.search(r"<!-- config-table:start -->\n(.*?)<!-- config-table:end -->", text, re.S)
    assert match, "README lacks the config-table markers"
    assert match.group(1).strip() == markdown_table().strip(), (
        "README configuration table is stale: run `python -m services.settings_docs --write`")
