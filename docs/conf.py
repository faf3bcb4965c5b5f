"""Sphinx configuration. Build: python -m sphinx -W -b html docs docs/_build/html"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tools"))
import gen_api_docs  # noqa: E402

import fastloss  # noqa: E402  (the installed package: autodoc reads its docstrings)

# The API page is generated from the registry on every build, so it cannot go stale.
(HERE / "api.rst").write_text(gen_api_docs.render(fastloss._registry.LOSSES))

project = "fastloss"
copyright = "2026, the fastloss developers"
version = release = fastloss.__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_typehints = "none"
exclude_patterns = ["_build"]
html_theme = "alabaster"


def _escape_docstring(app, what, name, obj, options, lines):
    # The generated docstrings are plain text for help(); make them valid reST
    # (|d| would be a substitution) before napoleon parses them.
    lines[:] = [gen_api_docs.escape(line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _escape_docstring, priority=100)
