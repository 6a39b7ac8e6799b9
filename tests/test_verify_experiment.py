"""The experiment contract: clear errors for a missing file, a failed import, a wrong return.

No TensorFlow: models and datasets are stand-ins with the same shape (fit/evaluate/compile,
element_spec), which is all the contract checks look at.
"""

import textwrap

import numpy as np
import pytest

from analyzer.verify.experiment import (
    ExperimentError,
    TrackedHP,
    call_experiment,
    load_experiment,
    validate_result,
)


class FakeModel:
    def __init__(self, compiled=True):
        self.optimizer = object() if compiled else None

    def fit(self, *a, **k):
        pass

    def evaluate(self, *a, **k):
        pass

    def compile(self, *a, **k):
        pass


class FakeDataset:
    element_spec = ()


def xy(n=10):
    return (np.zeros((n, 3)), np.zeros(n))


def write(tmp_path, body, name="exp.py"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return p


def test_missing_file(tmp_path):
    with pytest.raises(ExperimentError, match="not found"):
        load_experiment(tmp_path / "nope.py")


def test_folder_and_not_python(tmp_path):
    with pytest.raises(ExperimentError, match="folder"):
        load_experiment(tmp_path)
    (tmp_path / "exp.txt").write_text("x")
    with pytest.raises(ExperimentError, match="not a Python file"):
        load_experiment(tmp_path / "exp.txt")


def test_import_failure_shows_the_cause(tmp_path):
    p = write(tmp_path, "import no_such_module_for_curvelint\n")
    with pytest.raises(ExperimentError, match="failed to import") as e:
        load_experiment(p)
    assert "no_such_module_for_curvelint" in str(e.value)
    assert "exec_module" not in str(e.value)  # only the user's frames


def test_syntax_error(tmp_path):
    p = write(tmp_path, "def experiment(hp:\n")
    with pytest.raises(ExperimentError, match="failed to import"):
        load_experiment(p)


def test_no_experiment_function_lists_what_is_there(tmp_path):
    p = write(tmp_path, "def build(hp):\n    return {}\n")
    with pytest.raises(ExperimentError, match=r"no function `experiment\(hp\)`.*build"):
        load_experiment(p)


def test_experiment_not_callable_or_wrong_arity(tmp_path):
    with pytest.raises(ExperimentError, match="not a function"):
        load_experiment(write(tmp_path, "experiment = 3\n"))
    with pytest.raises(ExperimentError, match="one argument"):
        load_experiment(write(tmp_path, "def experiment():\n    return {}\n", "b.py"))


def test_experiment_can_import_its_neighbours(tmp_path):
    write(tmp_path, "VALUE = 7\n", "helper_mod_cl.py")
    p = write(tmp_path, "from helper_mod_cl import VALUE\ndef experiment(hp):\n    return VALUE\n")
    assert load_experiment(p)({}) == 7


def test_raising_experiment_is_reported_with_hp(tmp_path):
    p = write(tmp_path, "def experiment(hp):\n    raise RuntimeError('boom in user code')\n")
    fn = load_experiment(p)
    with pytest.raises(ExperimentError, match="boom in user code") as e:
        call_experiment(fn, {"learning_rate": 0.1})
    assert "learning_rate" in str(e.value)


@pytest.mark.parametrize(
    "result, message",
    [
        (None, "must return a dict"),
        ((1, 2), "must return a dict"),
        ({"model": FakeModel(), "train": xy()}, 'no "val"'),
        ({"model": FakeModel(), "train": xy(), "val": xy(), "data": 1}, 'unknown key.*"data"'),
        ({"model": "resnet", "train": xy(), "val": xy()}, "must be a keras.Model"),
        ({"model": FakeModel(), "train": [1, 2, 3], "val": xy()}, "length 3"),
        ({"model": FakeModel(), "train": (np.zeros(4), np.zeros(5)), "val": xy()}, "4 examples"),
        ({"model": FakeModel(), "train": xy(0), "val": xy()}, "empty"),
        ({"model": FakeModel(), "train": xy(), "val": FakeDataset()}, "both be"),
        ({"model": FakeModel(), "train": xy(), "val": xy(), "fit": 3}, '"fit" must be a dict'),
        (
            {"model": FakeModel(), "train": xy(), "val": xy(), "fit": {"epochs": 3}},
            'not set "epochs"',
        ),
        ({"model": FakeModel(compiled=False), "train": xy(), "val": xy()}, "not compiled"),
    ],
)
def test_wrong_returns(result, message):
    with pytest.raises(ExperimentError, match=message):
        validate_result(result)


def test_good_returns():
    spec = validate_result(
        {"model": FakeModel(False), "train": xy(), "val": xy(), "compile": {"loss": "mse"}}
    )
    assert spec.arrays and not spec.compiled and spec.fit == {}
    spec = validate_result({"model": FakeModel(), "train": FakeDataset(), "val": FakeDataset()})
    assert not spec.arrays and spec.compiled


def test_tracked_hp_records_reads_and_defaults(tmp_path):
    p = write(
        tmp_path,
        """
        import numpy as np
        class M:
            optimizer = 1
            def fit(self): pass
            def evaluate(self): pass
            def compile(self): pass
        def experiment(hp):
            lr = hp.get("learning_rate", 1e-3)
            bs = hp["batch_size"]
            if "dropout" in hp:
                pass
            x = np.zeros((5, 2)); y = np.zeros(5)
            return {"model": M(), "train": (x, y), "val": (x, y)}
        """,
    )
    spec = call_experiment(load_experiment(p), {"batch_size": 8})
    assert spec.hp_read == {"learning_rate", "batch_size", "dropout"}
    assert spec.hp_defaults == {"learning_rate": 1e-3}


def test_unknown_hyperparameter_is_refused():
    with pytest.raises(ExperimentError, match="unknown hyperparameter"):
        call_experiment(lambda hp: {}, {"lr": 0.1})


def test_tracked_hp_is_still_a_dict():
    hp = TrackedHP({"a": 1})
    assert hp.get("b", 2) == 2 and hp.setdefault("c", 3) == 3 and hp.pop("a") == 1
    assert hp.read == {"a", "b", "c"} and hp.defaults == {"b": 2, "c": 3}


# --- without TensorFlow, `curvelint verify` explains how to install it --------------------------


def test_verify_without_tensorflow_exits_2_with_install_hint(monkeypatch, capsys, tmp_path):
    import importlib.util

    from analyzer.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("tensorflow", "keras") else real(name, *a),
    )
    exp = write(tmp_path, "def experiment(hp):\n    return {}\n")
    assert main(["verify", str(exp), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'curvelint[tf]'" in err
    assert not (tmp_path / "out").exists()


# --- output folder safety ------------------------------------------------------------------------


def test_output_folder_never_the_users_logs(tmp_path):
    from analyzer.verify.runner import MARKER, VerifyError, prepare_out

    logs = tmp_path / "logs" / "run1"
    logs.mkdir(parents=True)
    for out in (logs, logs / "verify", tmp_path / "logs"):
        with pytest.raises(VerifyError, match="overlaps"):
            prepare_out(out, logs)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    for overwrite in (False, True):  # --overwrite never empties a folder verify did not make
        with pytest.raises(VerifyError, match="not made by curvelint"):
            prepare_out(foreign, None, overwrite)
    assert (foreign / "notes.txt").read_text() == "mine"
    ours = tmp_path / "ours"
    prepare_out(ours, logs)
    assert (ours / MARKER).exists()
    prepare_out(ours, logs)  # still empty but for the marker: fine


def test_earlier_verification_is_refused_unless_overwrite(tmp_path):
    """Issue 16: re-using an -o folder mixed an earlier call's runs into report.html."""
    from analyzer.verify.runner import MARKER, VerifyError, prepare_out

    ours = tmp_path / "ours"
    prepare_out(ours, None)
    (ours / "logs" / "raise-lr" / "s0").mkdir(parents=True)
    (ours / "verify.json").write_text("{}")
    with pytest.raises(VerifyError, match="--overwrite"):
        prepare_out(ours, None)
    assert (ours / "verify.json").exists()
    prepare_out(ours, None, overwrite=True)
    assert sorted(p.name for p in ours.iterdir()) == [MARKER]


def test_non_empty_output_is_refused_before_the_experiment_is_loaded(tmp_path, monkeypatch):
    import analyzer.verify.runner as runner
    from analyzer.verify.runner import Plan, VerifyError, verify

    monkeypatch.setattr(runner, "require_tf", lambda: None)
    touched = tmp_path / "imported"
    exp = write(tmp_path, f"open({str(touched)!r}, 'w').close()\ndef experiment(hp):\n    pass\n")
    out = tmp_path / "out"
    runner.prepare_out(out, None)
    (out / "verify.json").write_text("{}")
    with pytest.raises(VerifyError, match="earlier verification"):
        verify(Plan(experiment=exp, out=out))
    assert not touched.exists()  # the experiment file was never imported


def test_compiled_is_what_the_experiment_returned_not_what_the_verifier_did():
    spec = validate_result(
        {"model": FakeModel(False), "train": xy(), "val": xy(), "compile": {"loss": "mse"}}
    )
    spec.model.optimizer = object()  # the verifier compiles it afterwards
    assert not spec.compiled
