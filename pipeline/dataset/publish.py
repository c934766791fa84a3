"""Publish the dataset on data.gouv.fr (or another udata instance) through its API /api/1/, with
the session of datagouv-client, the platform's own client: the same plan is printed by the dry run
and carried out by a real run."""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from pipeline.dataset.tables import TABLES, parties, schema
from pipeline.dataset.write import write_atomic

INSTANCES = {
    "www": "https://www.data.gouv.fr",
    "demo": "https://demo.data.gouv.fr",
    "dev": "https://dev.data.gouv.fr",
}
LICENCE_ID = "lov2"
TAGS = ["delegation-de-gestion", "conventions", "budget-de-l-etat", "chorus", "finances-publiques"]
SPATIAL = {"zones": ["country:fr"], "granularity": "country"}
STATE_FILE = "publication.json"
TIMEOUT = 60
ATTEMPTS = 4
WAIT = 2.0  # seconds before the first new attempt, doubled at each one


class PublishError(Exception):
    """The publication stopped; the message says why, in French, and what is left on the server."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Transient(PublishError):
    """No answer, or a 5xx one: worth another attempt."""


class KeyWithheld(PublishError):
    """A request to another origin than the instance's: it would have carried the API key."""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def on_this_machine(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def instance_root(instance: str) -> str:
    """www, demo, dev, a host name (https is then assumed) or a URL; plain http only on this machine,
    where the key cannot be read on the way."""
    root = INSTANCES.get(instance, instance.strip())
    if "://" not in root:
        root = f"https://{root}"
    parts = urlsplit(root)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishError(f"instance « {instance} » : ni www, demo, dev, ni une adresse https://…")
    if parts.scheme == "http" and not on_this_machine(parts.hostname):
        raise PublishError(
            f"instance « {instance} » : https est obligatoire (en http, la clé API circulerait en clair) ; "
            "seul un serveur sur cette machine (localhost) est accepté en http"
        )
    return origin(root)


# The plan: what a run sends, built from the output folder alone.


@dataclass(frozen=True, slots=True)
class Upload:
    file: str  # in the output folder
    title: str
    description: str
    kind: str  # udata's resource type: main, documentation
    format: str
    schema_file: str | None = None  # the uploaded Table Schema this CSV follows


@dataclass(slots=True)
class Plan:
    root: str
    metadata: dict  # the dataset's fields as generated from the data
    uploads: list[Upload]
    dataset: str | None  # the dataset to update; None to create one
    old: dict[str, str] = field(default_factory=dict)  # file -> resource id, published before
    leftovers: dict | None = None  # what an interrupted run left on the server
    organisation: str | None = None
    private: bool = False
    force_metadata: bool = False


def uploads(version: str) -> list[Upload]:
    """Schemas first, so that each CSV can point to its own; datapackage.json last, once every file
    it names has an address."""
    items = [
        Upload(
            f"{name}.schema.json",
            f"Schéma de {name}.csv (Table Schema)",
            f"Schéma Table Schema de {name}.csv, version {version} : colonnes, types, descriptions, "
            "exemples et contraintes.",
            "documentation",
            "json",
        )
        for name in TABLES
    ]
    items += [
        Upload(
            f"{name}.csv",
            schema(name)["title"],
            f"{schema(name)['description']} Schéma : {name}.schema.json (version {version}).",
            "main",
            "csv",
            f"{name}.schema.json",
        )
        for name in TABLES
    ]
    items.append(
        Upload(
            "conventions.json",
            "Conventions au format JSON, avec les passages du texte",
            "Une fiche par convention, avec pour chaque valeur le passage du texte dont elle est tirée, "
            "sa position et la confiance de l'extraction, et les avertissements de relecture.",
            "main",
            "json",
        )
    )
    items.append(
        Upload(
            "datapackage.json",
            "Description du jeu de données (Data Package)",
            "Data Package (frictionless) : les tables, leurs schémas et la licence, avec les adresses des "
            "fichiers de ce jeu de données.",
            "documentation",
            "json",
        )
    )
    return items


def files() -> list[str]:
    return [item.file for item in uploads("")]


def metadata(outdir: Path, frequency: str) -> dict:
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    dates = sorted(r["date_signature"] for r in records if r.get("date_signature"))
    fields = {
        "title": package["title"],
        "description": description(records),
        "license": LICENCE_ID,
        "frequency": frequency,
        "spatial": SPATIAL,
        "tags": TAGS,
    }
    if dates:
        fields["temporal_coverage"] = {"start": dates[0], "end": dates[-1]}
    return fields


def description(records: list[dict]) -> str:
    """How many conventions, signed which years, between which services, on which programmes."""
    amendments = sum(1 for r in records if r.get("nature") == "avenant")
    years = sorted({r["date_signature"][:4] for r in records if r.get("date_signature")})
    when = (
        f"signées de {years[0]} à {years[-1]}"
        if len(years) > 1
        else f"signées en {years[0]}"
        if years
        else ""
    )
    count = f"{len(records)} convention{'s' if len(records) > 1 else ''} de délégation de gestion"
    if amendments:
        count += f", dont {amendments} avenant{'s' if amendments > 1 else ''},"
    lines = [
        f"{count} entre services de l'État {when}".rstrip() + " (décret n° 2004-1085 du 14 octobre 2004, "
        "article 2).",
        "",
        f"Services délégants : {services(records, 'delegant')}.",
        f"Services délégataires : {services(records, 'delegataire')}.",
    ]
    programmes = sorted({r["programme"] for r in records if r.get("programme")}, key=int)
    if programmes:
        lines.append(f"Programmes budgétaires : {', '.join(programmes)}.")
    lines += [
        "",
        "Pour chaque convention : ses parties et leurs représentants, les codes Chorus, les montants "
        "délégués (AE et CP par année), les dates de signature, de prise d'effet et de fin, la durée, "
        "le préavis et les signataires. Les fichiers CSV suivent les schémas Table Schema joints ; "
        "conventions.json garde pour chaque valeur le passage du texte dont elle est tirée.",
    ]
    return "\n".join(lines)


def services(records: list[dict], role: str) -> str:
    """The services in that role, by their acronym when the text gives one, most frequent first."""
    seen = Counter(
        party.get("sigle") or party.get("nom")
        for record in records
        for party in parties(record)
        if party.get("role") == role and (party.get("sigle") or party.get("nom"))
    )
    return ", ".join(name for name, _ in sorted(seen.items(), key=lambda item: (-item[1], item[0]))) or "—"


def make_plan(
    outdir: Path,
    root: str,
    dataset: str | None = None,
    organisation: str | None = None,
    private: bool = False,
    force_metadata: bool = False,
    frequency: str = "irregular",
) -> Plan:
    missing = [name for name in files() if not (outdir / name).exists()]
    if missing:
        raise PublishError(f"absents de {outdir} : {', '.join(missing)} (lancez d'abord « make extract »)")
    state = read_states(outdir).get(root, {})
    version = schema("conventions")["version"]
    old = state.get("resources", {}) if not dataset or dataset == state.get("dataset") else {}
    return Plan(
        root=root,
        metadata=metadata(outdir, frequency),
        uploads=uploads(version),
        dataset=dataset or state.get("dataset"),
        old=old,
        leftovers=state.get("a_nettoyer"),
        organisation=organisation,
        private=private,
        force_metadata=force_metadata,
    )


def describe(plan: Plan) -> list[str]:
    """The plan in French, for the dry run: every field and every file, as they would be sent."""
    lines = [f"Instance : {plan.root}"]
    if plan.leftovers:
        lines.append(
            f"D'abord, suppression des restes d'une publication interrompue : {leftover_text(plan.leftovers)}"
        )
    if plan.dataset:
        lines.append(f"Jeu de données mis à jour : {plan.dataset}")
        if plan.force_metadata:
            lines.append("Ses métadonnées sont remplacées par celles-ci (--force-metadata) :")
            lines += field_lines(plan.metadata | {"private": plan.private})
        else:
            lines.append(
                "Ses métadonnées restent telles qu'éditées sur le site (--force-metadata pour les remplacer)."
            )
    else:
        owner = (
            f"l'organisation {plan.organisation}" if plan.organisation else "votre compte (--organisation …)"
        )
        lines.append(f"Jeu de données créé, rattaché à {owner} :")
        lines.append(
            "  privé pendant les envois, "
            + (
                "laissé privé (--private)"
                if plan.private
                else "rendu public une fois tous les fichiers envoyés"
            )
        )
        lines += field_lines(plan.metadata)
    lines.append(f"Fichiers envoyés, dans cet ordre ({len(plan.uploads)}) :")
    for number, item in enumerate(plan.uploads, start=1):
        lines.append(f"  {number}. {item.file} — « {item.title} » (type {item.kind}, format {item.format})")
        lines.append(f"     description : {item.description}")
        if item.schema_file:
            rank = files().index(item.schema_file) + 1
            lines.append(
                f"     schéma : {item.schema_file}, par l'adresse du fichier n° {rank} une fois envoyé"
            )
        if item.file == "datapackage.json":
            lines.append("     ses chemins relatifs remplacés par les adresses des fichiers envoyés")
    if plan.dataset:
        lines.append(
            "Les nouveaux fichiers sont envoyés d'abord ; une fois tous envoyés, les anciens "
            f"({', '.join(plan.old.values()) or 'aucun connu'}) sont supprimés et les nouveaux prennent "
            "leur place. Une ressource dont le titre ou la description a été modifié sur le site les garde"
            + (" (sauf --force-metadata)." if not plan.force_metadata else " : non, --force-metadata.")
        )
    return lines


def field_lines(fields: dict) -> list[str]:
    labels = {
        "title": "titre",
        "description": "description",
        "license": "licence",
        "frequency": "fréquence",
        "temporal_coverage": "couverture temporelle",
        "spatial": "couverture spatiale",
        "tags": "mots-clés",
        "private": "privé",
    }
    lines = []
    for key, label in labels.items():
        if key not in fields:
            continue
        value = fields[key]
        if key == "description":
            value = value.replace("\n\n", "\n").replace("\n", "\n      ")
        elif key == "temporal_coverage":
            value = f"du {value['start']} au {value['end']}"
        elif key == "spatial":
            value = "France (country:fr)"
        elif key == "tags":
            value = ", ".join(value)
        elif key == "license":
            value = f"{value} (Licence Ouverte / Open Licence version 2.0)"
        lines.append(f"  {label} : {value}")
    return lines


def leftover_text(leftovers: dict) -> str:
    what = f"le jeu de données privé {leftovers['dataset']}" if leftovers.get("jeu_cree") else ""
    files = ", ".join(leftovers.get("resources", []))
    parts = [what] if what else []
    if files:
        parts.append(f"les ressources {files}" + ("" if what else f" du jeu {leftovers['dataset']}"))
    return " et ".join(parts)


# The run: the plan, carried out call by call.


class Api:
    """The udata API at one origin, through datagouv-client's session. The API key goes to that
    origin only: a redirect elsewhere stops the run before anything is sent there. No answer or a
    5xx one is tried again, waiting longer each time."""

    def __init__(
        self,
        root: str,
        api_key: str,
        echo: Callable[[str], None] = print,
        attempts: int = ATTEMPTS,
        wait: float = WAIT,
        timeout: float = TIMEOUT,
    ):
        from datagouv import Client

        self.root = root
        self.echo = echo
        self.attempts, self.wait = attempts, wait
        self.client = Client(
            api_key=api_key, verbose=False, timeout=timeout, hooks={"pre_request": [self.guard]}
        )
        self.client.base_url = root  # the client's session, pointed at this instance

    def guard(self, request, **_):
        if origin(request.url) != self.root:
            raise KeyWithheld(
                f"le serveur renvoie vers {origin(request.url)}, une autre adresse que {self.root} : "
                "la clé API n'y est pas envoyée et la publication s'arrête"
            )
        return request

    def call(self, method: str, path: str, payload: dict | list | None = None, upload: Path | None = None):
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception_type(Transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.wait),
            before_sleep=lambda state: self.echo(
                f"{state.outcome.exception()} ; nouvel essai dans {state.upcoming_sleep:g} s"
            ),
            reraise=True,
        )
        return retrying(self.send, method, path, payload, upload)

    def send(self, method: str, path: str, payload, upload: Path | None):
        import niquests

        url = f"{self.client.base_url}/api/1{path}"
        try:
            if upload:
                with upload.open("rb") as stream:
                    files = {"file": (upload.name, stream, media_type(upload))}
                    answer = self.client.session.request(method, url, files=files)
            else:
                answer = self.client.session.request(method, url, json=payload)
        except (niquests.Timeout, niquests.ConnectionError) as error:
            raise Transient(f"{method} {url} : pas de réponse ({type(error).__name__})") from error
        if answer.status_code >= 500:
            raise Transient(f"{method} {url} : erreur {answer.status_code} du serveur", answer.status_code)
        if answer.status_code >= 400:
            raise PublishError(
                f"{method} {url} : le serveur a refusé ({answer.status_code} {reason(answer)})",
                answer.status_code,
            )
        if not answer.content:
            return {}
        try:
            return answer.json()
        except ValueError:
            raise PublishError(
                f"{method} {url} : réponse illisible ({answer.status_code}, ce n'est pas du JSON)"
            ) from None


def media_type(path: Path) -> str:
    return "text/csv" if path.suffix == ".csv" else "application/json"


def reason(answer) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.reason or ""
    return str(body.get("message") or body.get("error") or body)[:300] if isinstance(body, dict) else ""


@dataclass(slots=True)
class Progress:
    """What this run has put on the server so far: what a rollback removes."""

    dataset: str | None = None
    created: bool = False
    resources: list[str] = field(default_factory=list)


def publish(outdir: Path, plan: Plan, api: Api) -> str:
    """Create or update the dataset as planned; returns its id. publication.json keeps, per instance,
    the dataset and resource ids, and what a failed rollback left on the server."""
    states = read_states(outdir)
    state = states.setdefault(plan.root, {})
    if plan.dataset and plan.dataset != state.get("dataset"):
        state.update(dataset=plan.dataset, resources={})
    api.call("GET", "/me/")
    try:
        clean_leftovers(api, state)
        if plan.dataset:
            update(outdir, plan, api, state)
        else:
            create(outdir, plan, api, state)
    finally:
        write_atomic(outdir / STATE_FILE, json.dumps(states, indent=2, ensure_ascii=False) + "\n")
    return state["dataset"]


def create(outdir: Path, plan: Plan, api: Api, state: dict) -> None:
    """A new dataset stays private until every file is uploaded, and is deleted if one fails."""
    payload = plan.metadata | {"private": True}
    if plan.organisation:
        payload["organization"] = api.call("GET", f"/organizations/{plan.organisation}/")["id"]
    progress = Progress(api.call("POST", "/datasets/", payload)["id"], created=True)
    try:
        resources = upload_all(outdir, plan, api, progress, {})
        if not plan.private:
            api.call("PUT", f"/datasets/{progress.dataset}/", {"private": False})
    except PublishError as error:
        roll_back(api, progress, state, error)
    state.update(dataset=progress.dataset, resources=resources)


def update(outdir: Path, plan: Plan, api: Api, state: dict) -> None:
    """Upload the new files beside the old ones; only when all are there, remove the old ones."""
    dataset = plan.dataset
    current = api.call("GET", f"/datasets/{dataset}/").get("resources", [])
    by_id = {resource["id"]: resource for resource in current}
    old = {name: by_id[rid] for name, rid in state.get("resources", {}).items() if rid in by_id}
    edited = {} if plan.force_metadata else old
    progress = Progress(dataset)
    try:
        resources = upload_all(outdir, plan, api, progress, edited)
    except PublishError as error:
        roll_back(api, progress, state, error)
    state["resources"] = resources
    left = []
    for resource in old.values():
        try:
            api.call("DELETE", f"/datasets/{dataset}/resources/{resource['id']}/")
        except PublishError:
            left.append(resource["id"])
    if left:
        state["a_nettoyer"] = {"dataset": dataset, "jeu_cree": False, "resources": left}
        api.echo(
            f"anciennes ressources non supprimées, notées pour la prochaine publication : {', '.join(left)}"
        )
    kept = [rid for rid in by_id if rid not in {r["id"] for r in old.values()} and rid not in left]
    order = [*resources.values(), *left, *kept]
    api.call("PUT", f"/datasets/{dataset}/resources/", [{"id": rid} for rid in order])
    if plan.force_metadata:
        api.call("PUT", f"/datasets/{dataset}/", plan.metadata | {"private": plan.private})


def upload_all(outdir: Path, plan: Plan, api: Api, progress: Progress, edited: dict[str, dict]) -> dict:
    """Each file uploaded, then described; returns the resource id of each."""
    urls, ids = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for item in plan.uploads:
            path = outdir / item.file
            if item.file == "datapackage.json":
                path = Path(scratch) / item.file
                path.write_text(published_package(outdir, urls), encoding="utf-8")
            resource = api.call("POST", f"/datasets/{progress.dataset}/upload/", upload=path)
            if not resource.get("id"):
                raise PublishError(
                    f"envoi de {item.file} : le serveur n'a pas donné d'identifiant de ressource"
                )
            progress.resources.append(resource["id"])
            payload = {
                "title": edited.get(item.file, {}).get("title") or item.title,
                "description": edited.get(item.file, {}).get("description") or item.description,
                "type": item.kind,
                "format": item.format,
            }
            if item.schema_file:
                payload["schema"] = {"url": urls[item.schema_file]}
            api.call("PUT", f"/datasets/{progress.dataset}/resources/{resource['id']}/", payload)
            urls[item.file], ids[item.file] = resource.get("url"), resource["id"]
    return ids


def published_package(outdir: Path, urls: dict[str, str]) -> str:
    """datapackage.json with each relative path replaced by the address of the uploaded file."""
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        resource["path"] = urls[resource["path"]]
        resource["schema"] = urls[resource["schema"]]
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"


def roll_back(api: Api, progress: Progress, state: dict, error: PublishError) -> None:
    """Remove what this run put on the server, then raise; what cannot be removed is saved in the
    state for the next run to remove first, and said."""
    try:
        if progress.created:
            api.call("DELETE", f"/datasets/{progress.dataset}/")
        else:
            for rid in list(progress.resources):
                api.call("DELETE", f"/datasets/{progress.dataset}/resources/{rid}/")
                progress.resources.remove(rid)
    except PublishError as failure:
        leftovers = {
            "dataset": progress.dataset,
            "jeu_cree": progress.created,
            "resources": progress.resources,
        }
        state["a_nettoyer"] = leftovers
        raise PublishError(
            f"{error} ; l'annulation a échoué ({failure}) : restent sur {api.root} "
            f"{leftover_text(leftovers)} ; ils sont notés dans {STATE_FILE} "
            "et la prochaine publication les supprime d'abord"
        ) from error
    undone = (
        "le jeu de données créé a été supprimé"
        if progress.created
        else "les nouveaux fichiers ont été retirés"
    )
    raise PublishError(f"{error} ; {undone} : rien n'a changé en ligne") from error


def clean_leftovers(api: Api, state: dict) -> None:
    leftovers = state.get("a_nettoyer")
    if not leftovers:
        return
    dataset = leftovers["dataset"]
    paths = [f"/datasets/{dataset}/"] if leftovers["jeu_cree"] else []
    paths += (
        []
        if leftovers["jeu_cree"]
        else [f"/datasets/{dataset}/resources/{r}/" for r in leftovers["resources"]]
    )
    for path in paths:
        try:
            api.call("DELETE", path)
        except PublishError as error:
            if error.status != 404:  # already gone is what was wanted
                raise PublishError(
                    "restes d'une publication interrompue toujours en ligne "
                    f"({leftover_text(leftovers)}) : {error}"
                ) from error
    del state["a_nettoyer"]
    api.echo(f"restes de la publication interrompue supprimés : {leftover_text(leftovers)}")


def read_states(outdir: Path) -> dict:
    """What was published from this folder, per instance: the dataset id and resource ids."""
    path = outdir / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def api_key() -> str:
    key = os.environ.get("DATAGOUV_API_KEY", "").strip()
    if not key:
        raise PublishError(
            "pas de clé API : définissez DATAGOUV_API_KEY (elle est dans votre profil data.gouv.fr)"
        )
    return key
