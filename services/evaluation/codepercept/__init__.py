"""`make eval-codepercept`: CodePercept-mini, retrieval and the two together, through percept-eval on the
engine's held-out seeds and on the independent figure set (cli.py; the report: report.py)."""
