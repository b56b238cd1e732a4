"""The real app in a subprocess, called through gradio_client like any API user would."""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import sys
import time
import urllib.request

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from PIL import Image

from tests.harness import ROOT, drawing_of, free_port, local_client, start_app, start_server, stop
from tests.images import canvas_of, save_png
from training import synth
from training.eval_sets import EVAL_PHOTOS

pytestmark = pytest.mark.slow
MNIST_SEVEN = ROOT / "examples" / "mnist-test-00000-digit-7.png"


@pytest.fixture(scope="module")
def client(app_url) -> Client:
    return local_client(app_url)


def test_predict_sketch_reads_image_files_of_held_out_writers_drawings(client, held_out_digits, tmp_path):
    digits = held_out_digits[::6]  # two of each class
    correct = 0
    for i, digit in enumerate(digits):
        path = save_png(canvas_of(digit, size=400, brush=10 + i % 3 * 8), tmp_path / f"d{i}.png")
        answer = client.predict(handle_file(str(path)), api_name="/predict_sketch")
        [read] = answer["digits"]
        assert len(read["probabilities"]) == 10 and read["preview"].startswith("data:image/png;base64,")
        assert answer["drawing"] is None and answer["status"]
        correct += answer["number"] == str(digit.label)
    assert correct >= len(digits) - 1


def test_predict_sketch_reads_strokes_as_the_pad_sends_them(client, held_out_digits):
    digits = held_out_digits[3::12]  # one of each class
    answers = [client.predict({**drawing_of(d), "id": 50 + i}, api_name="/predict_sketch") for i, d in enumerate(digits)]
    assert [a["drawing"] for a in answers] == [50 + i for i in range(len(digits))]
    assert sum(a["number"] == str(d.label) for a, d in zip(answers, digits)) >= len(digits) - 1


def test_predict_upload_reads_photos(client, held_out_digits, tmp_path):
    digits = held_out_digits[3::12]  # one of each class
    correct = 0
    for i, digit in enumerate(digits):
        jpeg = synth.random_photo(digit, np.random.default_rng(i), EVAL_PHOTOS, output_side=1200)
        (tmp_path / f"p{i}.jpg").write_bytes(jpeg)
        answer = client.predict(handle_file(str(tmp_path / f"p{i}.jpg")), api_name="/predict_upload")
        correct += answer["number"] == str(digit.label)
    assert correct >= len(digits) - 1


def test_an_empty_drawing_asks_for_a_digit(client):
    answer = client.predict({"id": 1, "width": 400, "height": 400, "brush": 16, "strokes": []}, api_name="/predict_sketch")
    assert answer["status"] == "Draw a digit or a number" and answer["digits"] == []


def test_blank_images_are_not_digits(client, tmp_path):
    path = save_png(Image.new("L", (400, 400), 255), tmp_path / "blank.png")
    answer = client.predict(handle_file(str(path)), api_name="/predict_sketch")
    assert answer["status"] == "Draw a digit or a number" and answer["digits"] == []
    answer = client.predict(handle_file(str(path)), api_name="/predict_upload")
    assert answer["status"].startswith("No digit found —") and answer["digits"] == []


def bad_files(tmp_path, seven):
    png = io.BytesIO()
    seven.save(png, "PNG")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000), 1).save(bomb, "PNG")
    files = {
        "empty.png": b"",
        "text.png": b"hello, I am not an image\n" * 10,
        "doc.png": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        "truncated.png": png.getvalue()[: len(png.getvalue()) // 2],
        "bomb.png": bomb.getvalue(),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    return files


def test_bad_files_get_a_clear_message_and_the_server_keeps_serving(client, tmp_path, seven):
    for name in bad_files(tmp_path, seven):
        answer = client.predict(handle_file(str(tmp_path / name)), api_name="/predict_upload")
        assert answer["status"].startswith("Can't read that file"), (name, answer["status"])
        assert "Traceback" not in answer["status"]
    good = save_png(seven, tmp_path / "seven.png")
    assert client.predict(handle_file(str(good)), api_name="/predict_upload")["number"] == "7"


def test_read_number_returns_the_digits_and_their_probabilities(client, held_out_digits, tmp_path):
    rng = np.random.default_rng(1)
    digits = [held_out_digits[i] for i in (24, 2, 30, 75)]  # 2 0 2 6
    path = save_png(synth.render_number_canvas(synth.lay_out_number(digits, rng, (0.2, 0.4))), tmp_path / "2026.png")
    answer = client.predict(handle_file(str(path)), api_name="/read_number")
    assert answer["number"] == "2026" and answer["status"].startswith("Reads 2026")
    for digit, read in zip("2026", answer["digits"]):
        assert read["digit"] == digit and set(read) == {"digit", "confidence", "unsure", "probabilities"}
        assert sum(read["probabilities"].values()) == pytest.approx(1, abs=1e-5)
    blank = save_png(Image.new("L", (400, 200), 255), tmp_path / "blank.png")
    nothing = client.predict(handle_file(str(blank)), api_name="/read_number")
    assert nothing["number"] == "" and nothing["digits"] == [] and nothing["status"].startswith("No digit found")


def wait_for_text(path, text: str, timeout: float = 30) -> str:
    """The file's content once it holds `text` (or whatever it holds when the time is up)."""
    deadline = time.monotonic() + timeout
    while text not in (content := path.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return content


def test_share_offline_warns_and_keeps_serving_locally(tmp_path, seven):
    port = free_port()
    log = tmp_path / "share.log"
    process = start_app(port, log, "--share")
    try:
        # No internet here: Gradio cannot fetch its tunnel client, says so, and serves on.
        assert "Could not create share link" in wait_for_text(log, "Could not create share link")
        path = save_png(seven, tmp_path / "seven.png")
        answer = local_client(f"http://127.0.0.1:{port}/").predict(handle_file(str(path)), api_name="/predict_upload")
        assert answer["number"] == "7"
    finally:
        stop(process)


def test_port_and_host_from_the_environment(tmp_path):
    port = free_port()
    # start_server returns once the app answers on `port`: only the environment named it.
    process = start_server([sys.executable, "app.py"], port, tmp_path / "env.log",
                           env={"GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"})
    try:
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).status == 200
        assert f"http://127.0.0.1:{port}" in wait_for_text(tmp_path / "env.log", str(port))
    finally:
        stop(process)


def test_the_mcp_server_offers_the_two_reading_tools_and_reads_an_image(app_url):
    schema = httpx.get(app_url + "gradio_api/mcp/schema", timeout=30).json()
    tools = {tool["name"]: tool for tool in schema}
    assert set(tools) == {"read_number", "read_digit"}  # the page's own endpoints are no tools
    for tool in tools.values():
        assert tool["inputSchema"]["required"] == ["image"] and "Nothing is stored" in tool["description"]
    assert '"probabilities"' in tools["read_digit"]["description"]

    async def call() -> dict:
        async with streamable_http_client(app_url + "gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                assert {t.name for t in (await session.list_tools()).tools} == set(tools)
                image = "data:image/png;base64," + base64.b64encode(MNIST_SEVEN.read_bytes()).decode()
                result = await session.call_tool("read_digit", {"image": image})
                return ast.literal_eval(result.content[0].text)

    answer = asyncio.run(call())
    assert answer["digit"] == "7" and answer["status"].startswith("It's a 7")
    assert sum(answer["probabilities"].values()) == pytest.approx(1, abs=1e-5)
