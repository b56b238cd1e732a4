"""The same engine behind a bare HTTP endpoint (FastAPI): the ceiling the Gradio app is compared to.

    python -m benchmarks.bare_server --port 7870
    curl -F image=@digit.png http://127.0.0.1:7870/predict
"""

from __future__ import annotations

import argparse

import torch
import uvicorn
from fastapi import FastAPI, File, HTTPException, UploadFile

from digitdraw import InvalidImageError, NoDigitError, predict
from digitdraw.paths import shipped

app = FastAPI()


@app.post("/predict")
def predict_endpoint(image: UploadFile = File(...)) -> dict[str, float]:
    try:
        return predict(image.file.read())
    except (NoDigitError, InvalidImageError) as e:
        raise HTTPException(422, str(e)) from e


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7870)
    parser.add_argument("--workers", type=int, default=2, help="threads running predictions at once")
    args = parser.parse_args()
    torch.set_num_threads(1)
    predict(shipped("examples") / "mnist-test-00000-digit-7.png")  # warm
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", limit_concurrency=256)
