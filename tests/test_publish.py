"""Publishing follows the udata API, against local servers on 127.0.0.1 that record every request."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from conftest import ROOT, SAMPLES
from frictionless import Package, system

from pipeline.batch import Options, run
from pipeline.cli import cli
from pipeline.dataset.publish import (
    STATE_FILE,
    Api,
    PublishError,
    files,
    instance_root,
    make_plan,
    publish,
    read_states,
)
from pipeline.dataset.tables import schema

KEY = "test-key-123"
FILES = files()
VERSION = schema("conventions")["version"]


class FakeUdata(ThreadingHTTPServer):
    """Datasets, resources and uploaded files in memory, served back at their URLs.
    `script` maps "METHOD /path/regex" to answers given, one per matching request, before the
    normal one: None (normal), a status, "not-json", "slow", ("redirect", url), ("reply", body) for
    a 200 answer with that JSON body and nothing done, ("after", body) for the request carried out
    and that body as its answer, or "hang": the request is carried out and its answer held until
    `released` is set (a client stopped while it waits never hears it)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.datasets: dict[str, dict] = {}
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, X-API-KEY
        self.script: dict[str, list] = {}
        self.counter = 0
        self.released = threading.Event()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def calls(self) -> list[str]:
        return [f"{method} {path}" for method, path, _ in self.requests]

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"


class Handler(BaseHTTPRequestHandler):
    server: FakeUdata

    def log_message(self, *args):
        pass

    hang = False
    override = None

    def answer(self, status: int, body: object = None, raw: bytes | None = None) -> None:
        if self.hang:
            self.server.released.wait(30)
            return
        if self.override is not None:
            status, raw = 200, json.dumps(self.override[1]).encode()
        data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def scripted(self, method: str) -> bool:
        for rule, answers in self.server.script.items():
            rule_method, pattern = rule.split(" ", 1)
            if rule_method == method and re.fullmatch(pattern, self.path) and answers:
                planned = answers.pop(0)
                if planned is None:  # this one goes through
                    return False
                if planned == "hang":
                    self.hang = True
                    return False
                if isinstance(planned, tuple) and planned[0] == "after":
                    self.override = planned
                    return False
                if planned == "not-json":
                    self.answer(200, raw=b"<html>maintenance</html>")
                elif planned == "slow":
                    time.sleep(1.5)
                    self.answer(504)
                elif isinstance(planned, tuple) and planned[0] == "reply":
                    self.answer(200, raw=json.dumps(planned[1]).encode())
                elif isinstance(planned, tuple):
                    self.send_response(307)
                    self.send_header("Location", planned[1] + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.answer(planned, {"message": "scripted failure"})
                return True
        return False

    def handle_any(self, method: str) -> None:
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server.requests.append((method, self.path, self.headers.get("X-API-KEY")))
        if method == "GET" and self.path.startswith("/files/"):
            data = server.files.get(self.path)
            return self.answer(200, raw=data) if data is not None else self.answer(404)
        if self.headers.get("X-API-KEY") != KEY:
            return self.answer(401, {"message": "Invalid API Key"})
        if self.scripted(method):
            return None
        path = self.path.removeprefix("/api/1")
        if path == "/me/" and method == "GET":
            return self.answer(200, {"id": "me", "first_name": "Test"})
        if path == "/me/org_datasets/" and method == "GET":
            return self.answer(200, list(server.datasets.values()))
        if match := re.fullmatch(r"/organizations/([\w-]+)/", path):
            return self.answer(200, {"id": f"org-{match[1]}", "name": match[1]})
        if path == "/datasets/" and method == "POST":
            dataset = {"id": server.next_id("ds"), "resources": [], "organization": None, **json.loads(body)}
            server.datasets[dataset["id"]] = dataset
            return self.answer(201, dataset)
        match = re.fullmatch(r"/datasets/(\w+)/(?:(resources/)(?:(\w+)/)?)?(upload/)?", path)
        if not match or match[1] not in server.datasets:
            return self.answer(404, {"message": "Not found"})
        dataset = server.datasets[match[1]]
        if match[4]:
            return self.upload(dataset, body)
        if match[3]:
            return self.resource(method, dataset, match[3], body)
        if match[2] and method == "PUT":
            order = [item["id"] for item in json.loads(body)]
            by_id = {r["id"]: r for r in dataset["resources"]}
            if sorted(order) != sorted(by_id):
                return self.answer(400, {"message": "order must list every resource"})
            dataset["resources"] = [by_id[rid] for rid in order]
            return self.answer(200, dataset["resources"])
        if method == "GET":
            return self.answer(200, dataset)
        if method == "PUT":
            dataset.update(json.loads(body))
            return self.answer(200, dataset)
        if method == "DELETE":
            del server.datasets[match[1]]
            return self.answer(204, raw=b"")
        return self.answer(405)

    def upload(self, dataset: dict, body: bytes) -> None:
        if not self.headers.get("Content-Type", "").startswith("multipart/form-data"):
            return self.answer(400, {"message": "multipart expected"})
        found = re.search(rb'name="file"; filename="([^"]+)"[^\n]*\n(?:[^\n]*\n)*?\r\n(.*)\r\n--', body, re.S)
        if not found:
            return self.answer(400, {"message": "no file field"})
        name, content = found[1].decode(), found[2]
        rid = self.server.next_id("r")
        url = f"{self.server.root}/files/{dataset['id']}/{rid}/{name}"
        self.server.files[url.removeprefix(self.server.root)] = content
        resource = {"id": rid, "title": name, "url": url, "type": "main", "filetype": "file"}
        dataset["resources"].append(resource)
        return self.answer(201, resource)

    def resource(self, method: str, dataset: dict, rid: str, body: bytes) -> None:
        resource = next((r for r in dataset["resources"] if r["id"] == rid), None)
        if resource is None:
            return self.answer(404, {"message": "Not found"})
        if method == "PUT":
            resource.update(json.loads(body))
            return self.answer(200, resource)
        if method == "DELETE":
            dataset["resources"].remove(resource)
            return self.answer(204, raw=b"")
        return self.answer(200, resource)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def serve() -> FakeUdata:
    fake = FakeUdata()
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    return fake


@pytest.fixture
def server():
    fake = serve()
    yield fake
    fake.released.set()
    fake.shutdown()
    fake.server_close()


@pytest.fixture
def elsewhere():
    """Another server, on another port: where a redirect would take the key."""
    fake = serve()
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


def send(outdir, server, lines=None, **options) -> str:
    """One real run, as `publish --envoyer` makes it, with short waits between attempts."""
    echo = (lines if lines is not None else []).append
    api = Api(server.root, KEY, echo=echo, wait=0.01, timeout=options.pop("timeout", 10))
    return publish(outdir, make_plan(outdir, server.root, **options), api)


def titles(dataset: dict) -> list[str]:
    return [resource["title"] for resource in dataset["resources"]]


def test_first_publication_makes_every_call_in_order(server, outdir):
    dataset = send(outdir, server)
    resource_calls = [
        call
        for rid in range(2, 2 + len(FILES))
        for call in (
            f"POST /api/1/datasets/{dataset}/upload/",
            f"PUT /api/1/datasets/{dataset}/resources/r{rid}/",
        )
    ]
    assert server.calls() == [
        "GET /api/1/me/",
        "POST /api/1/datasets/",
        *resource_calls,
        f"PUT /api/1/datasets/{dataset}/",
    ]
    assert all(key == KEY for _, _, key in server.requests)


def test_the_dataset_gets_its_metadata_from_the_data(server, outdir):
    published = server.datasets[send(outdir, server, organisation="mon-ministere")]
    assert published["organization"] == "org-mon-ministere"
    assert published["license"] == "lov2" and published["private"] is False
    assert published["frequency"] == "irregular"
    assert published["temporal_coverage"] == {"start": "2020-02-20", "end": "2020-11-23"}
    assert published["spatial"] == {"zones": ["country:fr"], "granularity": "country"}
    assert "delegation-de-gestion" in published["tags"]
    assert published["description"].startswith("5 conventions de délégation de gestion")
    assert "Services délégataires : DINUM, DNUM." in published["description"]


def test_each_resource_has_a_title_a_description_a_format_and_its_schema(server, outdir):
    resources = {r["url"].rsplit("/", 1)[1]: r for r in server.datasets[send(outdir, server)]["resources"]}
    assert sorted(resources) == sorted(FILES)
    for table in ("conventions", "montants", "signataires", "parties"):
        csv, schema = resources[f"{table}.csv"], resources[f"{table}.schema.json"]
        assert (csv["format"], csv["type"]) == ("csv", "main")
        assert csv["schema"] == {"url": schema["url"]}
        assert csv["description"] and csv["title"] != f"{table}.csv"
        assert (schema["format"], schema["type"]) == ("json", "documentation")


def test_the_published_datapackage_validates_from_the_addresses_it_names(server, outdir):
    dataset = server.datasets[send(outdir, server)]
    url = next(r["url"] for r in dataset["resources"] if r["url"].endswith("/datapackage.json"))
    with system.use_context(trusted=True):
        report = Package(url).validate()
    assert report.valid, report.flatten(["title", "message"])
    package = json.loads(server.files[url.removeprefix(server.root)])
    uploaded = {r["url"] for r in dataset["resources"]}
    assert {r["path"] for r in package["resources"]} | {r["schema"] for r in package["resources"]} <= uploaded


def test_a_5xx_in_the_middle_is_tried_again_after_a_wait(server, outdir):
    server.script = {r"PUT /api/1/datasets/\w+/resources/r4/": [503, 502]}
    lines: list[str] = []
    dataset = send(outdir, server, lines)
    assert server.calls().count(f"PUT /api/1/datasets/{dataset}/resources/r4/") == 3
    assert len(server.datasets[dataset]["resources"]) == len(FILES)
    assert [line.split(" ; ")[1] for line in lines] == [
        "nouvel essai dans 0.01 s",
        "nouvel essai dans 0.02 s",
    ]


def test_no_answer_in_time_is_tried_again(server, outdir):
    server.script = {r"POST /api/1/datasets/": ["slow"]}
    lines: list[str] = []
    dataset = send(outdir, server, lines, timeout=0.5)
    assert "pas de réponse" in lines[0]
    assert server.datasets[dataset]["private"] is False


def test_a_failure_that_lasts_deletes_the_new_dataset(server, outdir):
    server.script = {r"POST /api/1/datasets/\w+/upload/": [500] * 4}
    with pytest.raises(PublishError, match="erreur 500.*le jeu de données créé a été supprimé"):
        send(outdir, server)
    assert server.datasets == {}
    assert "a_nettoyer" not in read_states(outdir).get(server.root, {})


def test_a_refusal_is_not_tried_again(server, outdir):
    server.script = {r"POST /api/1/datasets/\w+/upload/": [413]}
    with pytest.raises(PublishError, match="refusé \\(413"):
        send(outdir, server)
    assert [c for c in server.calls() if c.endswith("/upload/")] == ["POST /api/1/datasets/ds1/upload/"]
    assert server.datasets == {}


def test_a_wrong_api_key_is_refused_before_anything_is_sent(server, outdir):
    api = Api(server.root, "wrong", echo=lambda line: None, wait=0.01)
    with pytest.raises(PublishError, match="401 Invalid API Key"):
        publish(outdir, make_plan(outdir, server.root), api)
    assert server.calls() == ["GET /api/1/me/"]


def test_a_redirect_to_another_origin_gets_no_key_and_stops_the_run(server, elsewhere, outdir):
    server.script = {r"POST /api/1/datasets/\w+/upload/": [("redirect", elsewhere.root)]}
    with pytest.raises(PublishError, match=f"renvoie vers {elsewhere.root}.*clé API n'y est pas envoyée"):
        send(outdir, server)
    assert elsewhere.requests == []
    assert server.datasets == {}  # the new dataset was deleted at the origin


def test_plain_http_is_refused_except_on_this_machine():
    assert instance_root("demo.data.gouv.fr") == "https://demo.data.gouv.fr"
    assert instance_root("demo") == "https://demo.data.gouv.fr"
    assert instance_root("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert instance_root("http://localhost:8000") == "http://localhost:8000"
    with pytest.raises(PublishError, match="https est obligatoire"):
        instance_root("http://data.example.org")


def test_cli_refuses_plain_http_to_another_host_in_one_french_line(outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    result = CliRunner().invoke(
        cli, ["publish", str(outdir), "--instance", "http://data.example.org", "--envoyer"]
    )
    assert result.exit_code == 1
    assert result.output.strip().startswith("publication échouée : instance « http://data.example.org »")
    assert len(result.output.strip().splitlines()) == 1


def test_no_publication_while_an_extraction_writes_the_folder(server, outdir, monkeypatch):
    from pipeline.outdir import OutputFolder

    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    with OutputFolder(outdir):
        result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, "--envoyer"])
    assert result.exit_code == 2
    assert "une extraction ou une publication utilise déjà" in result.output
    assert server.requests == []


def test_an_invalid_json_reply_gives_a_french_error_and_a_rollback(server, outdir):
    server.script = {r"PUT /api/1/datasets/\w+/resources/r3/": ["not-json"]}
    with pytest.raises(PublishError, match=r"réponse illisible \(200, ce n'est pas du JSON\).*supprimé"):
        send(outdir, server)
    assert server.datasets == {}


def test_a_failed_rollback_is_said_saved_and_cleaned_by_the_next_run(server, outdir):
    server.script = {
        r"POST /api/1/datasets/\w+/upload/": [None, 400],
        r"DELETE /api/1/datasets/ds1/": [500] * 4,
    }
    with pytest.raises(PublishError, match="restent sur .* le jeu de données privé ds1 ;"):
        send(outdir, server)
    leftovers = read_states(outdir)[server.root]["a_nettoyer"]
    assert (leftovers["dataset"], leftovers["jeu_cree"]) == ("ds1", True)
    assert list(server.datasets) == ["ds1"]
    lines: list[str] = []
    dataset = send(outdir, server, lines)
    assert "ds1" not in server.datasets and list(server.datasets) == [dataset]
    assert lines == ["restes de la publication interrompue supprimés : le jeu de données privé ds1"]
    assert "a_nettoyer" not in read_states(outdir)[server.root]


def test_an_update_swaps_the_resources_only_when_every_upload_succeeded(server, outdir):
    dataset = send(outdir, server)
    first = [r["id"] for r in server.datasets[dataset]["resources"]]
    server.script = {r"POST /api/1/datasets/\w+/upload/": [None, None, 400]}
    with pytest.raises(PublishError, match="les nouveaux fichiers ont été retirés"):
        send(outdir, server)
    assert [r["id"] for r in server.datasets[dataset]["resources"]] == first
    assert read_states(outdir)[server.root]["resources"] == dict(zip(FILES, first, strict=True))
    send(outdir, server)
    now = [r["id"] for r in server.datasets[dataset]["resources"]]
    assert len(now) == len(FILES) and not set(now) & set(first)
    assert sorted(r["url"].rsplit("/", 1)[1] for r in server.datasets[dataset]["resources"]) == sorted(FILES)


def test_an_update_makes_its_calls_in_order(server, outdir):
    dataset = send(outdir, server)
    old = [r["id"] for r in server.datasets[dataset]["resources"]]
    server.requests.clear()
    send(outdir, server)
    calls = server.calls()
    uploads = [c for c in calls if c.endswith("/upload/")]
    deletes = [c for c in calls if c.startswith("DELETE")]
    assert calls[:2] == ["GET /api/1/me/", f"GET /api/1/datasets/{dataset}/"]
    assert len(uploads) == len(FILES)
    assert deletes == [f"DELETE /api/1/datasets/{dataset}/resources/{rid}/" for rid in old]
    assert calls.index(deletes[0]) > calls.index(uploads[-1])
    assert calls[-1] == f"PUT /api/1/datasets/{dataset}/resources/"


def test_an_update_leaves_metadata_edited_on_the_site_alone(server, outdir):
    dataset = send(outdir, server)
    server.datasets[dataset]["title"] = "Titre choisi sur le site"
    server.datasets[dataset]["resources"][4]["title"] = "Conventions (titre du site)"
    extra = {"id": "site1", "title": "Note ajoutée sur le site", "url": "https://example.org/note.pdf"}
    server.datasets[dataset]["resources"].append(extra)
    send(outdir, server)
    published = server.datasets[dataset]
    assert published["title"] == "Titre choisi sur le site"
    assert published["resources"][4]["title"] == "Conventions (titre du site)"
    assert published["resources"][-1] == extra
    assert not any(c.startswith(f"PUT /api/1/datasets/{dataset}/ ") for c in server.calls())


def test_force_metadata_replaces_what_the_site_edited(server, outdir):
    dataset = send(outdir, server)
    server.datasets[dataset]["title"] = "Titre choisi sur le site"
    server.datasets[dataset]["resources"][4]["title"] = "Conventions (titre du site)"
    send(outdir, server, force_metadata=True)
    published = server.datasets[dataset]
    assert published["title"] == "Conventions de délégation de gestion entre services de l'État"
    assert published["resources"][4]["title"] == "Conventions de délégation de gestion"


def test_dry_run_is_the_default_prints_the_plan_in_french_and_sends_nothing(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root])
    assert result.exit_code == 0, result.output
    assert server.requests == []
    assert KEY not in result.output
    assert result.output.startswith("Simulation : rien n'est envoyé (--envoyer pour publier).")
    for name in FILES:
        assert f". {name} — «" in result.output
    assert "contact : aucun — indiquez une adresse ou une page de contact (--contact)" in result.output


def test_dry_run_shows_every_field_a_data_gouv_fr_reviewer_checks_in_french(server, outdir):
    options = ["--contact", "donnees@ministere.gouv.fr", "--frequence", "annuelle"]
    output = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, *options]).output
    for text in (
        "  titre : Conventions de délégation de gestion entre services de l'État",
        "  description : 5 conventions de délégation de gestion",
        "      Méthode : les données sont extraites automatiquement",
        "      Qualité : ",
        "      Relecture : un agent relit les valeurs signalées",
        "      Sources : les conventions publiées au Journal officiel",
        "      Contact : donnees@ministere.gouv.fr",
        "  licence : Licence Ouverte / Open Licence version 2.0 (lov2)",
        "  fréquence de mise à jour : annuelle",
        "  couverture temporelle : du 20/02/2020 au 23/11/2020",
        "  couverture géographique : France entière (granularité : pays)",
        "  mots-clés : delegation-de-gestion, conventions",
        "  contact : donnees@ministere.gouv.fr",
        "  10. conventions.xlsx — « Conventions dans un classeur, pour un tableur » (fichier principal",
        f"     schéma : parties.schema.json, version {VERSION}, par l'adresse du fichier n° 4",
    ):
        assert any(line.startswith(text) for line in output.splitlines()), text
    for english in ("annual", "irregular", "country:fr", "type main", "True", "False"):
        assert english not in output


def test_the_share_of_fields_to_review_is_the_one_the_review_files_list(server, outdir, dataset_dir):
    with (dataset_dir / "review.csv").open(encoding="utf-8-sig") as stream:
        doubtful = sum(1 for row in csv.DictReader(stream) if row["cle"])
    plan = make_plan(outdir, server.root)
    assert f"Qualité : {doubtful} des " in plan.metadata["description"]
    assert "reconnaissance optique des caractères" in plan.metadata["description"]


def test_once_in_the_catalogue_each_csv_names_its_schema_by_name_and_version(server, outdir):
    output = (
        CliRunner()
        .invoke(cli, ["publish", str(outdir), "--instance", server.root, "--schema-catalogue", "etalab"])
        .output
    )
    assert f"schéma : etalab/delegation-gestion-montants, version {VERSION}, du catalogue" in output
    resources = server.datasets[send(outdir, server, catalogue="etalab")]["resources"]
    named = {r["url"].rsplit("/", 1)[1]: r.get("schema") for r in resources}
    assert named["conventions.csv"] == {"name": "etalab/delegation-gestion-conventions", "version": VERSION}
    assert named["conventions.xlsx"] is None


def test_the_contact_ends_the_description_and_joins_the_published_datapackage(server, outdir):
    dataset = server.datasets[send(outdir, server, contact="donnees@ministere.gouv.fr")]
    assert dataset["description"].endswith("Contact : donnees@ministere.gouv.fr")
    url = next(r["url"] for r in dataset["resources"] if r["url"].endswith("/datapackage.json"))
    package = json.loads(server.files[url.removeprefix(server.root)])
    assert {"title": "Contact", "role": "maintainer", "email": "donnees@ministere.gouv.fr"} in package[
        "contributors"
    ]


def test_a_creation_answered_without_an_id_is_a_french_error_not_a_traceback(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    server.script = {r"POST /api/1/datasets/": [("reply", {})]}
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, "--envoyer"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "publication échouée : création du jeu de données : la réponse du serveur n'a pas de « id » ({}) ; "
        "rien n'avait été créé : rien n'a changé en ligne"
    )
    assert "a_nettoyer" not in read_states(outdir)[server.root]


def test_an_upload_answered_with_a_list_is_rolled_back(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    server.script = {r"POST /api/1/datasets/\w+/upload/": [None, ("reply", [])]}
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, "--envoyer"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "envoi de montants.schema.json : réponse inattendue du serveur ([], un objet était attendu)" in (
        result.output
    )
    assert "le jeu de données créé a été supprimé" in result.output
    assert server.datasets == {}


def test_a_creation_carried_out_but_answered_without_an_id_is_found_by_its_mark_and_deleted(server, outdir):
    server.script = {r"POST /api/1/datasets/": [("after", {})]}
    with pytest.raises(
        PublishError, match=r"n'a pas de « id » \(\{\}\) ; le jeu de données créé a été supprimé"
    ):
        send(outdir, server)
    assert server.datasets == {} and "DELETE /api/1/datasets/ds1/" in server.calls()


def test_an_update_upload_carried_out_but_answered_with_a_list_leaves_no_stray_resource(server, outdir):
    dataset = send(outdir, server)
    before = [r["id"] for r in server.datasets[dataset]["resources"]]
    server.script = {r"POST /api/1/datasets/\w+/upload/": [("after", [])]}  # the first: nothing noted yet
    with pytest.raises(
        PublishError, match="réponse inattendue du serveur .* les nouveaux fichiers ont été retirés"
    ):
        send(outdir, server)
    assert [r["id"] for r in server.datasets[dataset]["resources"]] == before


def test_an_update_whose_dataset_reply_lacks_its_resources_changes_nothing(server, outdir):
    dataset = send(outdir, server)
    before = json.dumps(server.datasets)
    server.script = {rf"GET /api/1/datasets/{dataset}/": [("reply", {"id": dataset})]}
    with pytest.raises(
        PublishError, match=f"lecture du jeu {dataset} : la réponse du serveur n'a pas de « resources »"
    ):
        send(outdir, server)
    assert json.dumps(server.datasets) == before


def test_dry_run_of_an_update_says_what_is_replaced_and_what_is_kept(server, outdir):
    send(outdir, server)
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root])
    assert "Jeu de données mis à jour : ds1" in result.output
    assert "Ses métadonnées restent telles qu'éditées sur le site" in result.output
    assert "les anciens (r2, r3" in result.output


def test_cli_publishes_with_envoyer_and_says_where(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, "--envoyer"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"publié : {server.root}/datasets/ds1/"
    assert json.loads((outdir / STATE_FILE).read_text(encoding="utf-8"))[server.root]["dataset"] == "ds1"


def test_cli_reports_a_failure_in_one_french_line_and_exits_1(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    server.script = {r"POST /api/1/datasets/\w+/upload/": [400]}
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--instance", server.root, "--envoyer"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("publication échouée :")
    assert len(result.output.strip().splitlines()) == 1
    assert KEY not in result.output


def test_cli_without_a_key_says_where_to_find_it(outdir, monkeypatch):
    monkeypatch.delenv("DATAGOUV_API_KEY", raising=False)
    result = CliRunner().invoke(cli, ["publish", str(outdir), "--envoyer"])
    assert result.exit_code == 1
    assert "DATAGOUV_API_KEY" in result.output


@pytest.mark.skipif(not os.environ.get("DATAGOUV_API_KEY"), reason="DATAGOUV_API_KEY is not set")
def test_a_private_draft_on_the_demo_instance(outdir):
    root = instance_root("demo")
    api = Api(root, os.environ["DATAGOUV_API_KEY"])
    dataset = publish(outdir, make_plan(outdir, root, private=True), api)
    api.call("DELETE", f"/datasets/{dataset}/")


def stopped_run(server, outdir, hung: str, stop: signal.Signals) -> None:
    """`publish --envoyer` in a process of its own, stopped by `stop` while the server holds the
    answer to the request `hung` names (the request itself carried out)."""
    environment = os.environ | {"DATAGOUV_API_KEY": KEY, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "publish", str(outdir), "--instance", server.root, "--envoyer"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not any(re.fullmatch(hung, call) for call in server.calls()) and run.poll() is None:
            assert time.monotonic() < deadline, server.calls()
            time.sleep(0.05)
        time.sleep(0.2)  # the server carries the request out before it holds the answer
        run.send_signal(stop)
        run.wait(30)
    finally:
        run.kill()
        server.released.set()


def published_files(dataset: dict) -> list[str]:
    return sorted(resource["url"].rsplit("/", 1)[1] for resource in dataset["resources"])


@pytest.mark.parametrize(
    ("hung", "stop"),
    [
        (r"POST /api/1/datasets/", signal.SIGKILL),  # created, its id never heard
        (r"POST /api/1/datasets/ds1/upload/", signal.SIGTERM),
        (r"PUT /api/1/datasets/ds1/resources/r4/", signal.SIGINT),
        (r"PUT /api/1/datasets/ds1/", signal.SIGKILL),  # the last step: made public
    ],
    ids=["creation", "upload", "description", "made-public"],
)
def test_a_first_publication_stopped_anyhow_is_cleaned_up_by_the_next(server, outdir, hung, stop):
    server.script = {hung: [None] * (2 if "upload" in hung else 0) + ["hang"]}
    stopped_run(server, outdir, hung, stop)
    assert read_states(outdir)[server.root]["a_nettoyer"]["jeu_cree"] is True
    server.script = {}
    lines: list[str] = []
    dataset = send(outdir, server, lines)
    assert lines[0] == "restes de la publication interrompue supprimés : le jeu de données privé ds1"
    assert list(server.datasets) == [dataset] and dataset != "ds1"
    assert published_files(server.datasets[dataset]) == sorted(FILES)
    assert "a_nettoyer" not in read_states(outdir)[server.root]


@pytest.mark.parametrize(
    ("hung", "stop"),
    [
        (r"POST /api/1/datasets/ds1/upload/", signal.SIGKILL),  # a new resource, its id never heard
        (r"PUT /api/1/datasets/ds1/resources/r\d+/", signal.SIGTERM),
        (r"DELETE /api/1/datasets/ds1/resources/r2/", signal.SIGKILL),  # the old ones going
    ],
    ids=["upload", "description", "removal"],
)
def test_an_update_stopped_anyhow_is_cleaned_up_by_the_next(server, outdir, hung, stop):
    send(outdir, server)
    server.datasets["ds1"]["resources"].append({"id": "site1", "url": "https://example.org/note.pdf"})
    server.requests.clear()
    server.script = {hung: [None] * (3 if "upload" in hung else 0) + ["hang"]}
    stopped_run(server, outdir, hung, stop)
    server.script = {}
    lines: list[str] = []
    send(outdir, server, lines)
    assert lines[0].startswith("restes de la publication interrompue supprimés : les ressources")
    assert list(server.datasets) == ["ds1"]
    assert published_files(server.datasets["ds1"]) == sorted([*FILES, "note.pdf"])
    assert "a_nettoyer" not in read_states(outdir)[server.root]


def test_json_gives_scripts_the_plan_then_what_was_published(server, outdir, monkeypatch):
    monkeypatch.setenv("DATAGOUV_API_KEY", KEY)
    base = ["publish", str(outdir), "--instance", server.root, "--json", "--schema-catalogue", "etalab"]
    plan = json.loads(CliRunner().invoke(cli, base).stdout)
    assert plan["simulation"] is True and plan["metadonnees"]["license"] == "lov2"
    assert [item["fichier"] for item in plan["fichiers"]] == FILES
    assert plan["fichiers"][4]["schema"] == {
        "name": "etalab/delegation-gestion-conventions",
        "version": VERSION,
    }
    result = CliRunner().invoke(cli, [*base, "--envoyer"])
    published = json.loads(result.stdout)
    assert published["adresse"] == f"{server.root}/datasets/ds1/"
    assert sorted(published["ressources"]) == sorted(FILES)
    assert server.datasets["ds1"]["resources"][0]["id"] == published["ressources"][FILES[0]]
