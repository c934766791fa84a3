"""Publishing follows the udata API, against a local server on 127.0.0.1 that checks requests."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from conftest import SAMPLES

from pipeline.batch import Options, run
from pipeline.cli import cli
from pipeline.dataset.publish import FILES, Client, PublishError, publish

KEY = "test-key-123"


class FakeUdata(ThreadingHTTPServer):
    """Datasets and resources in memory; `fail_upload` makes the n-th upload answer 500."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.datasets: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_upload: int | None = None
        self.uploads = 0

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status: int, body: dict | None = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method: str) -> None:
        server: FakeUdata = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server.requests.append((method, self.path))
        if self.headers.get("X-API-KEY") != KEY:
            return self.answer(401, {"message": "Invalid API Key"})
        path = self.path.removeprefix("/api/1")
        if path == "/me/" and method == "GET":
            return self.answer(200, {"id": "me"})
        if path == "/datasets/" and method == "POST":
            dataset = {"id": f"ds{len(server.datasets) + 1}", "resources": [], **json.loads(body)}
            server.datasets[dataset["id"]] = dataset
            return self.answer(201, dataset)
        match = re.fullmatch(r"/datasets/(\w+)/(?:resources/(\w+)/)?(upload/)?", path)
        if not match or match[1] not in server.datasets:
            return self.answer(404, {"message": "Not found"})
        dataset = server.datasets[match[1]]
        if match[3]:
            return self.upload(server, dataset, match[2], body)
        if method == "GET":
            return self.answer(200, dataset)
        if method == "PUT":
            dataset.update(json.loads(body))
            return self.answer(200, dataset)
        if method == "DELETE":
            del server.datasets[match[1]]
            return self.answer(204)
        return self.answer(405)

    def upload(self, server: FakeUdata, dataset: dict, rid: str | None, body: bytes) -> None:
        if not self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            return self.answer(400, {"message": "multipart expected"})
        name = re.search(rb'name="file"; filename="([^"]+)"', body)
        if not name:
            return self.answer(400, {"message": "no file field"})
        server.uploads += 1
        if server.uploads == server.fail_upload:
            return self.answer(500, {"message": "storage unavailable"})
        if rid:
            resource = next(r for r in dataset["resources"] if r["id"] == rid)
            resource["uploads"] += 1
            return self.answer(200, resource)
        resource = {"id": f"r{len(dataset['resources']) + 1}", "title": name[1].decode(), "uploads": 1}
        dataset["resources"].append(resource)
        return self.answer(201, resource)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


@pytest.fixture
def server():
    fake = FakeUdata()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish")
    run(SAMPLES, out, Options(jobs=1, use_spacy=False))
    return out


@pytest.fixture
def outdir(dataset_dir, tmp_path):
    for name in FILES:
        (tmp_path / name).write_bytes((dataset_dir / name).read_bytes())
    return tmp_path


def test_first_publication_creates_a_public_dataset_with_every_file(server, outdir):
    dataset = publish(outdir, Client(server.root, KEY))
    published = server.datasets[dataset]
    assert [r["title"] for r in published["resources"]] == FILES
    assert published["license"] == "lov2"
    assert published["private"] is False
    assert ("POST", "/api/1/datasets/") in server.requests


def test_second_publication_replaces_the_same_resources(server, outdir):
    dataset = publish(outdir, Client(server.root, KEY))
    assert publish(outdir, Client(server.root, KEY)) == dataset
    assert [r["uploads"] for r in server.datasets[dataset]["resources"]] == [2] * len(FILES)
    assert ("POST", f"/api/1/datasets/{dataset}/resources/r1/upload/") in server.requests


def test_a_server_error_during_creation_leaves_nothing_published(server, outdir):
    server.fail_upload = 3
    with pytest.raises(PublishError, match="500 storage unavailable.*nothing is published"):
        publish(outdir, Client(server.root, KEY))
    assert server.datasets == {}
    assert not (outdir / "publication.json").exists()


def test_a_wrong_api_key_is_refused_before_anything_is_sent(server, outdir):
    with pytest.raises(PublishError, match="401 Invalid API Key"):
        publish(outdir, Client(server.root, "wrong"))
    assert server.requests == [("GET", "/api/1/me/")]


def test_dry_run_prints_each_request_and_never_the_key(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert KEY not in result.output
    assert result.output.count("/upload/") == len(FILES)
    assert server.requests == []


def test_cli_reports_a_failure_in_one_line_and_exits_1(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    server.fail_upload = 1
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root])
    assert result.exit_code == 1
    assert result.output.strip().startswith("échec de la publication :")
    assert KEY not in result.output
