"""Measure the shipped model on MNIST and on drawings, scans, photos and numbers it never saw.

    python -m training.evaluate                  # every set and the numbers, about 25 minutes on 2 cores
    python -m training.evaluate --quick          # a fifth of each, for a fast look
    python -m training.evaluate --json /tmp/e.json --markdown /tmp/card.md   # elsewhere than reports/

The sets are in training/eval_sets.py (and whole numbers in training/evaluate_numbers.py); every
set reports its accuracy with a 95% interval and its calibration error (training/metrics.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from digitdraw.inference import load_classifier
from training import eval_sets, report
from training.evaluate_numbers import evaluate_numbers, print_numbers
from training.metrics import describe, describe_rejection


def main(argv: list[str] | None = None) -> None:
    parser = report.evaluation_parser(__doc__)
    parser.add_argument("--markdown", type=Path, default=report.MODEL_CARD,
                        help="where to write the model card (default: %(default)s)")
    args = parser.parse_args(argv)
    contract = load_classifier().contract
    print(f"weights: {contract.command} ({contract.date})")

    results: dict[str, Any] = {"sets": {}, "populations": {}, "non_digits": {}}
    results["mnist_test"] = eval_sets.mnist_accuracy()
    print(f"MNIST test, raw 28x28: {results['mnist_test']:.2%}")
    for name, (jobs, tags) in eval_sets.population_sets(args.quick, args.seed).items():
        results["populations"][name] = describe(eval_sets.run_set(jobs, tags, args.workers))
        report.print_set(name, results["populations"][name])
    for name, (jobs, tags) in eval_sets.non_digit_sets(args.quick, args.seed).items():
        results["non_digits"][name] = describe_rejection(eval_sets.run_set(jobs, tags, args.workers))
        report.print_rejection(name, results["non_digits"][name])
    for name, (jobs, tags) in eval_sets.evaluation_sets(args.quick, args.seed).items():
        measured = eval_sets.run_set(jobs, tags, args.workers)
        results["sets"][name] = describe(measured)
        if name == "drawn digits":  # three colour forms of one drawing are one test of it
            results["sets"][name]["conditions"] = eval_sets.drawn_conditions(measured)
        report.print_set(name, results["sets"][name])
    results["rejection"] = eval_sets.rejection_rate(args.seed, 30 if args.quick else 100)
    print("\nImages without a digit rejected: " + ", ".join(f"{k} {v:.0%}" for k, v in results["rejection"].items()))
    results["numbers"] = evaluate_numbers(args.quick, args.seed, args.workers)
    print_numbers(results["numbers"])
    report.write_text(args.json, report.report_json(results))
    report.write_text(args.markdown, report.model_card(results, contract))


if __name__ == "__main__":
    main()
