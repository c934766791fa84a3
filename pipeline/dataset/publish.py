"""Publish the dataset on a udata instance (data.gouv.fr) through its public API."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipeline.dataset.write import write_atomic

INSTANCES = {
    "www": "https://www.data.gouv.fr",
    "demo": "https://demo.data.gouv.fr",
    "dev": "https://dev.data.gouv.fr",
}
LICENCE_ID = "lov2"
FILES = [
    "conventions.csv",
    "montants.csv",
    "signataires.csv",
    "conventions.json",
    "datapackage.json",
]
STATE_FILE = "publication.json"
TIMEOUT = 60


class PublishError(Exception):
    """The publication stopped; the message says why and what was left on the server."""


@dataclass
class Client:
    """The udata API, or with dry_run only a printout of the requests it would send."""

    root: str
    api_key: str | None
    dry_run: bool = False
    echo: object = print
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, payload: dict | None = None, upload: Path | None = None) -> dict:
        url = f"{self.root}/api/1{path}"
        if self.dry_run:
            what = f" file={upload.name}" if upload else f" json={json.dumps(payload, ensure_ascii=False)}"
            self.echo(f"{method} {url} X-API-KEY: ***{what if payload or upload else ''}")
            return {"id": "DRY-RUN", "slug": "dry-run"}
        headers = {"X-API-KEY": self.api_key or "", "Accept": "application/json"}
        try:
            if upload:
                with upload.open("rb") as stream:
                    files = {"file": (upload.name, stream, media_type(upload))}
                    answer = self.session.request(method, url, headers=headers, files=files, timeout=TIMEOUT)
            else:
                answer = self.session.request(method, url, headers=headers, json=payload, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise PublishError(f"{method} {url}: no answer ({type(error).__name__})") from error
        if answer.status_code >= 400:
            raise PublishError(f"{method} {url}: the server answered {answer.status_code} {reason(answer)}")
        return answer.json() if answer.content else {}


def media_type(path: Path) -> str:
    return "text/csv" if path.suffix == ".csv" else "application/json"


def reason(answer: requests.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.reason or ""
    return str(body.get("message") or body.get("error") or body)[:300]


def metadata(outdir: Path, private: bool) -> dict:
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    return {
        "title": package["title"],
        "description": package["description"],
        "license": LICENCE_ID,
        "private": private,
        "tags": ["delegation-de-gestion", "chorus", "budget-de-l-etat"],
    }


def publish(outdir: Path, client: Client, dataset_id: str | None = None, private: bool = False) -> str:
    """Create or update the dataset and upload or replace each file; returns the dataset id."""
    missing = [name for name in FILES if not (outdir / name).exists()]
    if missing:
        raise PublishError(f"missing in {outdir}: {', '.join(missing)} (run 'make extract' first)")
    if not client.dry_run and not client.api_key:
        raise PublishError("no API key: set DATAGOUV_API_KEY (it is in your data.gouv.fr profile)")
    states = read_states(outdir)
    state = states.get(client.root, {})
    if dataset_id and dataset_id != state.get("dataset"):
        state = {"dataset": dataset_id, "resources": {}}
    if not client.dry_run:
        client.call("GET", "/me/")
    if state.get("dataset"):
        update(outdir, client, state, private)
    else:
        state = create(outdir, client, private)
    if not client.dry_run:
        states[client.root] = state
        write_atomic(outdir / STATE_FILE, json.dumps(states, indent=2) + "\n")
    return state["dataset"]


def create(outdir: Path, client: Client, private: bool) -> dict:
    """A new dataset stays private until every file is uploaded, and is deleted on failure."""
    dataset = client.call("POST", "/datasets/", metadata(outdir, private=True))["id"]
    try:
        resources = {
            name: client.call("POST", f"/datasets/{dataset}/upload/", upload=outdir / name)["id"]
            for name in FILES
        }
        if not private:
            client.call("PUT", f"/datasets/{dataset}/", {"private": False})
    except PublishError as error:
        client.call("DELETE", f"/datasets/{dataset}/")
        raise PublishError(f"{error}; the new dataset was deleted: nothing is published") from error
    return {"dataset": dataset, "resources": resources}


def update(outdir: Path, client: Client, state: dict, private: bool) -> None:
    """Check the dataset and its resources first, then replace each file in place."""
    dataset = state["dataset"]
    known = {r["id"] for r in client.call("GET", f"/datasets/{dataset}/").get("resources", [])}
    resources = {
        name: rid for name, rid in state.get("resources", {}).items() if rid in known or client.dry_run
    }
    client.call("PUT", f"/datasets/{dataset}/", metadata(outdir, private))
    done = []
    for name in FILES:
        rid = resources.get(name)
        path = f"/datasets/{dataset}/resources/{rid}/upload/" if rid else f"/datasets/{dataset}/upload/"
        try:
            resources[name] = client.call("POST", path, upload=outdir / name).get("id", rid)
        except PublishError as error:
            left = ", ".join(FILES[len(done) :])
            raise PublishError(
                f"{error}; replaced: {', '.join(done) or 'none'}; left as they were: {left}"
            ) from error
        done.append(name)
    state["resources"] = resources


def read_states(outdir: Path) -> dict:
    """What was published from this folder, per instance: the dataset id and resource ids."""
    path = outdir / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def client_for(instance: str, dry_run: bool, echo=print) -> Client:
    root = INSTANCES.get(instance, instance).rstrip("/")
    return Client(root, os.environ.get("DATAGOUV_API_KEY"), dry_run=dry_run, echo=echo)
