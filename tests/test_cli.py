"""``python -m fastloss``: argument errors, the table, progress, --plot, --help."""

from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys

import pytest

from fastloss._registry import LOSSES

SMALL = ("-n", "2000", "--repeat", "1")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cli(*args: str, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "fastloss", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def rows(stdout: str, name: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.split()[:1] == [name]]


def test_unknown_loss_lists_the_names_and_suggests_the_closest():
    r = cli("--loss", "crossentropy")
    assert r.returncode == 2
    assert r.stdout == ""  # no empty table, no "all results match"
    assert "argument --loss: unknown loss 'crossentropy'; did you mean 'cross_entropy'?" in r.stderr
    assert all(spec.name in r.stderr for spec in LOSSES)


@pytest.mark.parametrize("args, message", [
    (("-n", "0"), "argument -n: must be at least 10"),  # row-wise losses need one row
    (("-n", "5"), "argument -n: must be at least 10"),
    (("-n", "-5", "--loss", "mse_loss"), "argument -n: must be at least 1, got -5"),
    (("--repeat", "0"), "argument --repeat: must be at least 1, got 0"),
])
def test_bad_sizes_are_argument_errors(args, message):
    r = cli(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_small_run_shows_real_shapes_and_matches():
    r = cli(*SMALL, "--loss", "mse_loss", "--loss", "cross_entropy")
    assert r.returncode == 0, r.stderr
    assert "all results match the reference" in r.stdout
    assert len(rows(r.stdout, "mse_loss")) == 2
    assert all("(2000,)" in line for line in rows(r.stdout, "mse_loss"))
    assert len(rows(r.stdout, "cross_entropy")) == 2
    assert all("(200, 10)" in line for line in rows(r.stdout, "cross_entropy"))


def test_pointwise_losses_alone_take_fewer_elements_than_a_row():
    r = cli("-n", "5", "--repeat", "1", "--loss", "mse_loss")
    assert r.returncode == 0, r.stderr
    assert all("(5,)" in line for line in rows(r.stdout, "mse_loss"))


def test_progress_goes_to_stderr_one_line_per_step_when_not_a_terminal():
    r = cli(*SMALL, "--loss", "l1_loss", "--loss", "nll_loss")
    assert r.returncode == 0, r.stderr
    assert r.stderr.splitlines() == ["[1/4] l1_loss float32", "[2/4] l1_loss float64",
                                     "[3/4] nll_loss float32", "[4/4] nll_loss float64"]
    assert "[1/4]" not in r.stdout


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_rewrites_one_line_and_clears_it():
    from fastloss.__main__ import Progress

    out = _Terminal()
    p = Progress(12, out)
    p.step("binary_cross_entropy float32")
    p.step("l1_loss float64")
    p.clear()
    text = out.getvalue()
    assert "\n" not in text
    assert text.split("\r")[1:4] == ["[ 1/12] binary_cross_entropy float32",
                                    "[ 2/12] l1_loss float64" + " " * 13,  # covers the longer line
                                    " " * len("[ 2/12] l1_loss float64")]


def test_exit_status_is_1_when_a_result_is_outside_its_tolerance(monkeypatch, capsys):
    import fastloss.__main__ as cli_module

    monkeypatch.setitem(cli_module.TOLERANCE, "float64", -1.0)  # nothing can pass
    assert cli_module.main([*SMALL, "--loss", "huber_loss"]) == 1
    out = capsys.readouterr().out
    assert "SOME RESULTS DO NOT MATCH THE REFERENCE" in out
    assert [line.endswith("FAIL") for line in rows(out, "huber_loss")] == [False, True]


def test_plot_writes_a_png_with_every_installed_peer(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "speed.png"
    r = cli(*SMALL, "--loss", "mse_loss", "--loss", "cross_entropy", "--loss", "log_cosh_loss",
            "--plot", str(path))
    assert r.returncode == 0, r.stderr
    assert path.read_bytes()[:8] == PNG_MAGIC
    (line,) = [line for line in r.stdout.splitlines() if line.startswith("plot written to")]
    assert str(path) in line
    # mse_loss has both peers: each appears exactly where its library is installed
    for peer, module in (("PyTorch", "torch"), ("scikit-learn", "sklearn")):
        assert (peer in line) == (importlib.util.find_spec(module) is not None)
    assert "left out" not in r.stderr  # every peer agreed with the reference


def test_plot_without_matplotlib_fails_before_running(tmp_path):
    blocked = tmp_path / "matplotlib"
    blocked.mkdir()
    (blocked / "__init__.py").write_text("raise ImportError('blocked by the test')\n")
    r = cli(*SMALL, "--plot", str(tmp_path / "x.png"), pythonpath=str(tmp_path))
    assert r.returncode == 2
    assert "pip install matplotlib" in r.stderr
    assert "[1/" not in r.stderr  # no loss ran
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("name, message", [("speed.xyz", "the name must end in one of"),
                                           ("missing/speed.png", "is not a directory")])
def test_plot_path_is_checked_before_running(tmp_path, name, message):
    pytest.importorskip("matplotlib")
    r = cli(*SMALL, "--plot", str(tmp_path / name))
    assert r.returncode == 2
    assert "argument --plot: " in r.stderr and message in r.stderr
    assert "[1/" not in r.stderr


def test_help_is_plain_text_with_examples():
    r = cli("--help")
    assert r.returncode == 0
    assert "``" not in r.stdout
    assert "usage: python -m fastloss" in r.stdout
    assert "python -m fastloss --loss cross_entropy -n 100000" in r.stdout
    assert all(spec.name in r.stdout for spec in LOSSES)
