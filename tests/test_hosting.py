"""Hosting: the ZeroGPU path, and requirements that a Space (CPython 3.12, manylinux) can install."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from digitdraw import inference
from digitdraw.preprocessing import preprocess
from tests.harness import ROOT
from tests.images import canvas_of

SPACE_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


def test_without_zero_gpu_the_real_spaces_package_changes_nothing(held_out_digits):
    # The spaces package is installed (requirements.txt); with SPACES_ZERO_GPU unset the app
    # neither imports it nor moves the model.
    code = ("import os, sys, spaces; os.environ.pop('SPACES_ZERO_GPU', None); sys.modules.pop('spaces');"
            "import digitdraw; p = digitdraw.predict(sys.argv[1]); "
            "print(max(p, key=p.get), 'spaces' in sys.modules, next(digitdraw.load_classifier().model.parameters()).device)")
    path = ROOT / "examples" / "mnist-test-00000-digit-7.png"
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7", "False", "cpu"]


def test_on_zero_gpu_only_the_batched_model_call_is_decorated(monkeypatch, held_out_digits):
    # A stand-in for `spaces` records what the app decorates; "cpu" stands in for "cuda" here.
    decorated = []

    def gpu(duration: int):
        def wrap(function):
            def on_gpu(digits):
                assert isinstance(digits, np.ndarray) and digits.dtype == np.float32  # CPU arrays in
                decorated.append(digits.shape)
                return function(digits)
            return on_gpu
        return wrap

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=gpu))
    shipped = inference.load_classifier()
    on_gpu = inference.Classifier(shipped.model, shipped.contract, inference.zero_gpu_logits(shipped.model, device="cpu"))
    digits = np.stack([preprocess(canvas_of(d)) for d in held_out_digits[::30]])
    probabilities = on_gpu(digits)
    assert isinstance(probabilities, np.ndarray)  # CPU arrays out
    np.testing.assert_allclose(probabilities, shipped(digits), atol=1e-6)
    assert decorated == [digits.shape]  # one decorated call per batch; preprocessing ran outside


@pytest.mark.slow
def test_requirements_resolve_to_wheels_for_a_space(tmp_path):
    platforms = [arg for platform in SPACE_PLATFORMS for arg in ("--platform", platform)]
    result = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--only-binary=:all:",
                             "--python-version", "3.12", *platforms, "--target", str(tmp_path / "site"),
                             "-r", str(ROOT / "requirements.txt")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    would = next(line for line in result.stdout.splitlines() if line.startswith("Would install"))
    pins = [re.sub(r"\[.*\]", "", line.split(";")[0].strip()) for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert all(pin.replace("==", "-") in would for pin in pins), (pins, would)


def test_the_dockerfile_passes_hadolint():
    # No Docker daemon here to build it; the linter checks what it can (pins, user, shell form).
    hadolint = Path(sys.executable).parent / "hadolint"  # installed beside python by the dev extra
    result = subprocess.run([str(hadolint), "--failure-threshold", "info", str(ROOT / "Dockerfile")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "EXPOSE 7860" in text and "GRADIO_SERVER_NAME=0.0.0.0" in text
    assert "\nUSER 1000\n" in text  # not root


def test_the_nginx_config_is_valid_and_keeps_clients_sticky_and_streams_events(tmp_path):
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "ip_hash;" in text and "proxy_buffering off;" in text and "proxy_http_version 1.1;" in text
    main = tmp_path / "nginx.conf"  # the shipped file goes in http {}, as in /etc/nginx/conf.d/
    main.write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
                    f"http {{ access_log off; client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};\n"
                    f"include {ROOT / 'deploy' / 'nginx.conf'}; }}\n")
    result = subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_nginx_caps_each_route_s_body_as_the_app_does():
    from digitdraw import limits
    from digitdraw.gradio_compat import MCP_ROUTE, UPLOAD_ROUTE

    text = (ROOT / "deploy" / "nginx.conf").read_text()
    caps = {match[0]: int(match[1]) * limits.MB for match in
            re.findall(r"location (\S+) \{\n        client_max_body_size (\d+)m;", text)}
    assert caps == {UPLOAD_ROUTE: limits.MAX_UPLOAD, MCP_ROUTE: limits.MAX_MCP}
    server_wide = re.search(r"\n    client_max_body_size (\d+)m;", text)
    assert int(server_wide[1]) * limits.MB == limits.MAX_BODY


def test_the_kubernetes_service_is_sticky_and_pods_are_probed_and_sized():
    import yaml

    deployment, service = yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text())
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == 7860
    assert set(container["resources"]) == {"requests", "limits"}


def test_the_replica_benchmark_runs_the_shipped_nginx_config_with_its_own_replicas(tmp_path):
    from benchmarks.serving import nginx_config, sticky_report

    template = (ROOT / "deploy" / "nginx.conf").read_text()
    config = nginx_config(template, [9001, 9002, 9003], 9100, tmp_path)
    site = (tmp_path / "site.conf").read_text()
    assert site.count("    server 127.0.0.1:") == 3 and "listen 127.0.0.1:9100;" in site
    assert site.replace("9001", "").count("proxy_buffering off;") == 1  # the rest is the shipped file's
    result = subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(config), "-p", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (tmp_path / "access.log").write_text("127.0.1.1 127.0.0.1:9001\n127.0.2.1 127.0.0.1:9002\n127.0.1.1 127.0.0.1:9001\n")
    assert sticky_report(tmp_path / "access.log") == {"clients": 2, "sticky": True,
                                                      "clients_per_replica": {"127.0.0.1:9001": 1, "127.0.0.1:9002": 1}}
    (tmp_path / "access.log").write_text("127.0.1.1 127.0.0.1:9001\n127.0.1.1 127.0.0.1:9002\n")
    assert not sticky_report(tmp_path / "access.log")["sticky"]
