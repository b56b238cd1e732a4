"""The `digitdraw` command.

    digitdraw predict FILE...           # name, digit and confidence of each file
    digitdraw predict --json FILE...    # one JSON object a line, with all ten probabilities
    digitdraw predict --number FILE...  # each file read as a number, digit by digit (with --json too)
    digitdraw serve [--share] [--host HOST] [--port PORT]

`predict` reads every file it can; a file it cannot read, or that holds no digit, is reported
on stderr and makes the exit status 1.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from .errors import InvalidImageError, NoDigitError
from .serving import add_server_arguments


def digit_fields(row: np.ndarray) -> dict:
    """One digit's probabilities as the JSON output gives them: digit, confidence, all ten."""
    from .reading import probabilities_dict

    best = int(row.argmax())
    return {"digit": str(best), "confidence": round(float(row[best]), 6),
            "probabilities": {k: round(v, 6) for k, v in probabilities_dict(row).items()}}


def predict_files(paths: list[str], as_json: bool) -> int:
    """Print one line per readable file; return the exit status (1 if any file failed)."""
    from .reading import predict

    status = 0
    for path in paths:
        try:
            row = np.array(list(predict(path).values()))
        except (InvalidImageError, NoDigitError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            status = 1
            continue
        best = int(row.argmax())
        if as_json:
            print(json.dumps({"file": path, **digit_fields(row)}))
        else:
            print(f"{path}\t{best}\t{row[best]:.1%}")
    return status


def read_number_files(paths: list[str], as_json: bool) -> int:
    """Print each file's number, digit by digit; return the exit status (1 if any file failed)."""
    from .reading import read_number_steps

    status = 0
    for path in paths:
        try:
            reading = read_number_steps(path)
        except (InvalidImageError, NoDigitError) as e:
            print(f"{path}: {e}", file=sys.stderr)
            status = 1
            continue
        number, rows = reading.number, reading.probabilities
        if as_json:
            print(json.dumps({"file": path, "number": number, "digits": [digit_fields(row) for row in rows]}))
        else:
            print(f"{path}\t{number}\t" + " ".join(f"{row.max():.0%}" for row in rows))
    return status


def serve(host: str, port: int, share: bool) -> None:
    from . import serving
    from .inference import load_classifier
    from .ui import build_ui

    serving.configure_process()
    serving.launch(build_ui(load_classifier(), serving.reading_processes()), host, port, share)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="digitdraw", description="Read handwritten digits in images.")
    commands = parser.add_subparsers(dest="command", required=True)
    predict = commands.add_parser("predict", help="print the digit in each image file")
    predict.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ...)")
    predict.add_argument("--json", action="store_true", help="one JSON object a line, with all ten probabilities")
    predict.add_argument("--number", action="store_true",
                         help="read each image as a number of one or more digits, left to right")
    add_server_arguments(commands.add_parser("serve", help="run the app in the browser"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.command == "predict":
        return (read_number_files if args.number else predict_files)(args.files, args.json)
    serve(args.host, args.port, args.share)
    return 0


if __name__ == "__main__":
    sys.exit(main())
