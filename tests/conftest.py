"""Session-wide reporting of the test battery."""

from __future__ import annotations


def _torch_skips(reporter) -> int:
    return sum(1 for r in reporter.stats.get("skipped", [])
               if "torch" in str(getattr(r, "longrepr", "")).lower())


def pytest_terminal_summary(terminalreporter):
    # Without torch a run passes while every PyTorch comparison is skipped; say so
    # where nobody can miss it, with the count and how to run them.
    n = _torch_skips(terminalreporter)
    if n:
        terminalreporter.section("PyTorch comparisons SKIPPED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{n} tests that compare with PyTorch were skipped: torch is not installed. "
            "Run them with: python -m pip install -r requirements/torch.txt && python -m pytest",
            red=True, bold=True)
