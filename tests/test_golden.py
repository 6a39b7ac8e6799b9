"""Golden end-to-end results for a few labelled fixture runs.

The golden files hold what a user acts on — verdict, roles, and per finding its code, kind,
severity, curve and step range — not the wording or every evidence number. After an intended
behaviour change, regenerate them with ``python tests/test_golden.py`` and review the diff.
"""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
RUNS = [
    "overfit-cancer-subset60-s1",
    "diverge-wine-warmup-sgdm-s4",
    "lr-too-low-digits-sgd-s0",
    "healthy-digits-adam-s0",
    "healthy-digits-cnn-s0",
]


def reduced(name: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from analyzer.engine import check

    report = check(ROOT / "fixtures" / "training" / name)
    doc = json.loads(report.to_json())
    return {
        "runs": [
            {
                "run": r["run"],
                "format": r["format"],
                "roles": r["roles"],
                "verdict": r["verdict"],
                "findings": [
                    {
                        k: f[k]
                        for k in ("code", "kind", "severity", "curve", "start_step", "end_step")
                    }
                    for f in r["findings"]
                ],
            }
            for r in doc["runs"]
        ]
    }


@pytest.mark.parametrize("name", RUNS)
def test_golden(name):
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    assert reduced(name) == expected


if __name__ == "__main__":
    for name in RUNS:
        (GOLDEN / f"{name}.json").write_text(json.dumps(reduced(name), indent=2) + "\n")
        print("wrote", name)


@pytest.mark.parametrize("labelled_set", ["training", "holdout", "holdout2", "gen2", "gen3"])
def test_every_labelled_run_is_read_and_analysed_without_rule_errors(labelled_set):
    from analyzer.engine import check

    base = ROOT / "fixtures" / labelled_set
    labels = json.loads((base / "labels.json").read_text())
    report = check(base)
    seen = {r.run.split("/", 1)[0] for r in report.runs}
    assert set(labels) <= seen
    assert not [f for r in report.runs for f in r.findings if f.code == "CLI000"]
    # a run labelled with problems is never "insufficient-data"
    by_folder = {r.run.split("/", 1)[0]: r for r in report.runs}
    assert not [
        n
        for n, lab in labels.items()
        if lab["kinds"] and by_folder[n].verdict == "insufficient-data"
    ]
