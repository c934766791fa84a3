"""Publish the dataset on data.gouv.fr (or another udata instance) through its API /api/1/, with
the session of datagouv-client, the platform's own client: the same plan is printed by the dry run
and carried out by a real run. Before each change on the server, what it would leave to undo is
written to publication.json, so that a run stopped in any way is cleaned up by the next."""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from pipeline import PATTERNS_DIR
from pipeline.dataset.review import fields_of
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
JOURNAL = "a_nettoyer"  # in publication.json: what a run in progress, or stopped, leaves to undo
MARK = "conventions-extract:publication"  # the extra naming the run that created a dataset
# udata's update frequencies, in the words of data.gouv.fr's form.
FREQUENCY_WORDS = {
    "irregular": "irrégulière",
    "punctual": "ponctuelle",
    "annual": "annuelle",
    "semiannual": "semestrielle",
    "quarterly": "trimestrielle",
    "monthly": "mensuelle",
    "unknown": "inconnue",
}
KIND_WORDS = {"main": "fichier principal", "documentation": "documentation"}
MEDIA_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
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
    schema_name: str | None = None  # that schema's name in the catalogue of schema.data.gouv.fr


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
    contact: str | None = None
    version: str = ""  # of the schemas


def uploads(version: str, catalogue: str | None = None) -> list[Upload]:
    """Schemas first, so that each CSV can point to its own; datapackage.json last, once every file
    it names has an address. With `catalogue` (the owner of the schema's repository, once
    schema.data.gouv.fr lists it), each CSV names its schema as the catalogue does."""
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
            f"{catalogue}/{schema(name)['name']}" if catalogue else None,
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
            "conventions.xlsx",
            "Conventions dans un classeur, pour un tableur",
            "Les mêmes tables dans un classeur : colonnes nommées en français, dates, montants et durées "
            "en clair, prêtes à imprimer ; une première feuille « À vérifier » liste les valeurs à relire, "
            "et chaque cellule douteuse, en jaune, porte en commentaire le passage du texte dont elle "
            "est tirée.",
            "main",
            "xlsx",
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


def metadata(outdir: Path, frequency: str, contact: str | None = None) -> dict:
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    records = json.loads((outdir / "conventions.json").read_text(encoding="utf-8"))
    dates = sorted(r["date_signature"] for r in records if r.get("date_signature"))
    fields = {
        "title": package["title"],
        "description": description(records, contact),
        "license": LICENCE_ID,
        "frequency": frequency,
        "spatial": SPATIAL,
        "tags": TAGS,
    }
    if dates:
        fields["temporal_coverage"] = {"start": dates[0], "end": dates[-1]}
    return fields


def description(records: list[dict], contact: str | None = None) -> str:
    """What the data are (how many conventions, signed which years, between which services, on which
    programmes), how they were made, how good they are, where they come from and whom to ask; in
    Markdown, as data.gouv.fr shows it."""
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
        f"- Services délégants : {services(records, 'delegant')}.",
        f"- Services délégataires : {services(records, 'delegataire')}.",
    ]
    programmes = sorted({r["programme"] for r in records if r.get("programme")}, key=int)
    if programmes:
        lines.append(f"- Programmes budgétaires : {', '.join(programmes)}.")
    lines += [
        "",
        "Pour chaque convention : ses parties et leurs représentants, les codes Chorus, les montants "
        "délégués (AE et CP par année), les dates de signature, de prise d'effet et de fin, la durée, "
        "le préavis et les signataires. Les fichiers CSV suivent les schémas Table Schema joints ; "
        "conventions.json garde pour chaque valeur le passage du texte dont elle est tirée.",
        "",
        method(records),
        "",
        quality(records),
        "",
        "Relecture : un agent relit les valeurs signalées dans la page de relecture ou dans la feuille "
        "« À vérifier » du classeur, face au passage du texte dont chacune est tirée ; ses corrections, "
        "gardées dans un fichier corrections.csv, sont appliquées à chaque nouvelle extraction, avec la "
        "valeur extraite qu'elles remplacent.",
        "",
        sources(records),
    ]
    if contact:
        lines += ["", f"Contact : {contact}"]
    return "\n".join(lines)


def method(records: list[dict]) -> str:
    scanned = sum(any(page.get("method") == "ocr" for page in r.get("pages") or []) for r in records)
    how = (
        f"{scanned} des {len(records)} conventions, publiées en image, ont été lues par reconnaissance "
        "optique des caractères (OCR, Tesseract), les autres dans le texte des fichiers"
        if scanned
        else "Toutes les conventions ont été lues dans le texte des fichiers, sans reconnaissance optique "
        "des caractères (OCR)"
    )
    return (
        "Méthode : les données sont extraites automatiquement des conventions publiées par l'outil libre "
        f"conventions-extract. {how}. Les valeurs sont ensuite relevées par des règles écrites (motifs "
        "et vocabulaires propres à ces actes), aidées, selon les réglages, du modèle de langue français "
        "de spaCy pour les noms de personnes ; chacune reçoit une confiance, et des contrôles de "
        "cohérence (sommes des montants, dates, codes Chorus) signalent celles à vérifier."
    )


def quality(records: list[dict]) -> str:
    """The share of fields a person should still look at, as review.csv and the workbook list them."""
    settings = yaml.safe_load((PATTERNS_DIR / "review.yaml").read_text(encoding="utf-8"))
    fields = [
        field for record in records for field in fields_of(record, settings) if field.key != "url_source"
    ]  # the address of the act is given by the producer, not extracted
    doubtful = sum(field.doubtful for field in fields)
    corrected = sum(field.corrected for field in fields)
    share = f"{100 * doubtful / len(fields):.1f}".replace(".", ",") if fields else "0"
    text = (
        f"Qualité : {doubtful} des {len(fields)} champs extraits ({share} %) restent à vérifier (valeur "
        "absente que le texte devrait donner, contrôle échoué ou confiance faible) ; ils sont signalés "
        "dans la colonne avertissements de conventions.csv et dans la feuille « À vérifier » du classeur."
    )
    if corrected:
        text += f" {corrected} valeur{'s' if corrected > 1 else ''} corrigée{'s' if corrected > 1 else ''} "
        text += "ou confirmée" + ("s" if corrected > 1 else "") + " par une relecture humaine."
    return text


def sources(records: list[dict]) -> str:
    linked = sum(bool(r.get("url_source")) for r in records)
    text = (
        "Sources : les conventions publiées au Journal officiel et dans les bulletins officiels des "
        "ministères ; la colonne fichier_source nomme le fichier lu"
    )
    if linked:
        text += (
            f", et la colonne url_source donne l'adresse de la publication de {linked} des "
            f"{len(records)} conventions"
        )
    return text + "."


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
    contact: str | None = None,
    catalogue: str | None = None,
) -> Plan:
    missing = [name for name in files() if not (outdir / name).exists()]
    if missing:
        raise PublishError(f"absents de {outdir} : {', '.join(missing)} (lancez d'abord « make extract »)")
    state = read_states(outdir).get(root, {})
    version = schema("conventions")["version"]
    old = state.get("resources", {}) if not dataset or dataset == state.get("dataset") else {}
    return Plan(
        root=root,
        metadata=metadata(outdir, frequency, contact),
        uploads=uploads(version, catalogue),
        dataset=dataset or state.get("dataset"),
        old=old,
        leftovers=state.get(JOURNAL),
        organisation=organisation,
        private=private,
        force_metadata=force_metadata,
        contact=contact,
        version=version,
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
    lines.append(
        f"  contact : {plan.contact}, écrit à la fin de la description"
        if plan.contact
        else "  contact : aucun — indiquez une adresse ou une page de contact (--contact)"
    )
    lines.append(f"Fichiers envoyés, dans cet ordre ({len(plan.uploads)}) :")
    for number, item in enumerate(plan.uploads, start=1):
        kind = KIND_WORDS.get(item.kind, item.kind)
        lines.append(f"  {number}. {item.file} — « {item.title} » ({kind}, format {item.format})")
        lines.append(f"     description : {item.description}")
        if item.schema_name:
            lines.append(
                f"     schéma : {item.schema_name}, version {plan.version}, du catalogue schema.data.gouv.fr"
            )
        elif item.schema_file:
            rank = files().index(item.schema_file) + 1
            lines.append(
                f"     schéma : {item.schema_file}, version {plan.version}, par l'adresse du fichier "
                f"n° {rank} une fois envoyé (--schema-catalogue une fois le schéma au catalogue)"
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


def plan_data(plan: Plan) -> dict:
    """The plan for a script (publish --json): the fields and files as they would be sent."""
    return {
        "simulation": True,
        "instance": plan.root,
        "jeu_de_donnees": plan.dataset,
        "restes_a_supprimer": plan.leftovers,
        "metadonnees": plan.metadata,
        "contact": plan.contact,
        "fichiers": [
            {
                "fichier": item.file,
                "titre": item.title,
                "description": item.description,
                "type": item.kind,
                "format": item.format,
                "schema": {"name": item.schema_name, "version": plan.version}
                if item.schema_name
                else {"fichier": item.schema_file, "version": plan.version}
                if item.schema_file
                else None,
            }
            for item in plan.uploads
        ],
    }


def field_lines(fields: dict) -> list[str]:
    labels = {
        "title": "titre",
        "description": "description",
        "license": "licence",
        "frequency": "fréquence de mise à jour",
        "temporal_coverage": "couverture temporelle",
        "spatial": "couverture géographique",
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
            value = f"du {french_date(value['start'])} au {french_date(value['end'])}"
        elif key == "spatial":
            value = "France entière (granularité : pays)"
        elif key == "tags":
            value = ", ".join(value)
        elif key == "license":
            value = f"Licence Ouverte / Open Licence version 2.0 ({value})"
        elif key == "frequency":
            value = FREQUENCY_WORDS.get(value, value)
        elif key == "private":
            value = "oui" if value else "non"
        lines.append(f"  {label} : {value}")
    return lines


def french_date(text: str) -> str:
    year, month, day = text.split("-")
    return f"{day}/{month}/{year}"


def leftover_text(leftovers: dict) -> str:
    dataset = leftovers.get("dataset")
    if leftovers.get("jeu_cree"):
        return f"le jeu de données privé {dataset}" if dataset else "un jeu de données privé en création"
    names = sorted(leftovers.get("resources", {}).values())
    if leftovers.get("envoi"):
        names.append(f"le fichier {leftovers['envoi']} en cours d'envoi")
    return f"les ressources {', '.join(names)} du jeu {dataset}" if names else f"rien sur le jeu {dataset}"


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
                    files = {"file": (upload.name, stream, MEDIA_TYPES[upload.suffix])}
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


def reason(answer) -> str:
    try:
        body = answer.json()
    except ValueError:
        return answer.reason or ""
    return str(body.get("message") or body.get("error") or body)[:300] if isinstance(body, dict) else ""


# What each reply must hold: the keys the run reads from it, and their types.
ME = {"id": str}
DATASET = {"id": str}
RESOURCES = {"resources": list}
UPLOADED = {"id": str, "url": str}
ORGANISATION = {"id": str}


def expect(reply: object, keys: dict[str, type], what: str) -> dict:
    """The reply, if it has the shape the run relies on; else a French error saying what came."""
    if not isinstance(reply, dict):
        raise PublishError(
            f"{what} : réponse inattendue du serveur ({excerpt(reply)}, un objet était attendu)"
        )
    missing = [key for key, kind in keys.items() if not isinstance(reply.get(key), kind) or reply[key] == ""]
    if missing:
        names = ", ".join(f"« {key} »" for key in missing)
        raise PublishError(f"{what} : la réponse du serveur n'a pas de {names} ({excerpt(reply)})")
    return reply


def excerpt(reply: object) -> str:
    text = json.dumps(reply, ensure_ascii=False)
    return text if len(text) <= 80 else f"{text[:77]}…"


class Ledger:
    """publication.json for one instance: the dataset and resource ids published, and, while a run
    changes the server, what it would leave to undo (JOURNAL), written before each change."""

    def __init__(self, outdir: Path, root: str):
        self.path = outdir / STATE_FILE
        self.states = read_states(outdir)
        self.state = self.states.setdefault(root, {})

    @property
    def journal(self) -> dict:
        return self.state.get(JOURNAL) or {}

    def note(self, **changes: object) -> None:
        self.state[JOURNAL] = self.journal | changes
        self.save()

    def close(self) -> None:
        self.state.pop(JOURNAL, None)
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.states, indent=2, ensure_ascii=False) + "\n")


def publish(outdir: Path, plan: Plan, api: Api) -> str:
    """Create or update the dataset as planned; returns its id. publication.json keeps, per instance,
    the dataset and resource ids, and what a stopped run left on the server."""
    ledger = Ledger(outdir, plan.root)
    state = ledger.state
    if plan.dataset and plan.dataset != state.get("dataset"):
        state.update(dataset=plan.dataset, resources={})
    expect(api.call("GET", "/me/"), ME, "vérification de la clé API")
    clean_leftovers(api, ledger)
    if plan.dataset:
        update(outdir, plan, api, ledger)
    else:
        create(outdir, plan, api, ledger)
    ledger.save()
    return state["dataset"]


def create(outdir: Path, plan: Plan, api: Api, ledger: Ledger) -> None:
    """A new dataset stays private until every file is uploaded, and is deleted if one fails. It
    carries a mark of this run, by which it is found again if the run stops before its id is known."""
    mark = uuid.uuid4().hex
    payload = plan.metadata | {"private": True, "extras": {MARK: mark}}
    if plan.organisation:
        reply = api.call("GET", f"/organizations/{plan.organisation}/")
        payload["organization"] = expect(reply, ORGANISATION, f"organisation {plan.organisation}")["id"]
    ledger.note(dataset=None, jeu_cree=True, marque=mark, resources={})
    try:
        reply = api.call("POST", "/datasets/", payload)
        dataset = expect(reply, DATASET, "création du jeu de données")["id"]
        ledger.note(dataset=dataset)
        resources = upload_all(outdir, plan, api, ledger, {})
        if not plan.private:
            api.call("PUT", f"/datasets/{dataset}/", {"private": False})
    except PublishError as error:
        roll_back(api, ledger, error)
    ledger.state.update(dataset=dataset, resources=resources)
    ledger.close()


def update(outdir: Path, plan: Plan, api: Api, ledger: Ledger) -> None:
    """Upload the new files beside the old ones; only when all are there, remove the old ones."""
    dataset = plan.dataset
    reply = expect(api.call("GET", f"/datasets/{dataset}/"), RESOURCES, f"lecture du jeu {dataset}")
    by_id = {resource["id"]: resource for resource in resource_list(reply, dataset)}
    old = {name: by_id[rid] for name, rid in ledger.state.get("resources", {}).items() if rid in by_id}
    edited = {} if plan.force_metadata else old
    ledger.note(dataset=dataset, jeu_cree=False, avant=list(by_id), resources={})
    try:
        resources = upload_all(outdir, plan, api, ledger, edited)
    except PublishError as error:
        roll_back(api, ledger, error)
    # Every new file is there: the old ones are now what is left to remove.
    ledger.state["resources"] = resources
    ledger.state[JOURNAL] = {
        "dataset": dataset,
        "jeu_cree": False,
        "resources": {name: resource["id"] for name, resource in old.items()},
    }
    ledger.save()
    for name, resource in old.items():
        try:
            delete(api, f"/datasets/{dataset}/resources/{resource['id']}/")
        except PublishError:
            continue
        ledger.note(resources={k: v for k, v in ledger.journal["resources"].items() if k != name})
    left = list(ledger.journal["resources"].values())
    if left:
        api.echo(
            f"anciennes ressources non supprimées, notées pour la prochaine publication : {', '.join(left)}"
        )
    else:
        ledger.close()
    kept = [rid for rid in by_id if rid not in {r["id"] for r in old.values()}]
    order = [*resources.values(), *left, *kept]
    api.call("PUT", f"/datasets/{dataset}/resources/", [{"id": rid} for rid in order])
    if plan.force_metadata:
        api.call("PUT", f"/datasets/{dataset}/", plan.metadata | {"private": plan.private})


def resource_list(reply: dict, dataset: str) -> list[dict]:
    for resource in reply["resources"]:
        expect(resource, {"id": str}, f"lecture des ressources du jeu {dataset}")
    return reply["resources"]


def upload_all(outdir: Path, plan: Plan, api: Api, ledger: Ledger, edited: dict[str, dict]) -> dict:
    """Each file uploaded, then described; returns the resource id of each. The file being sent is
    noted first, and its resource id as soon as the server gives it."""
    dataset = ledger.journal["dataset"]
    urls, ids = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for item in plan.uploads:
            path = outdir / item.file
            if item.file == "datapackage.json":
                path = Path(scratch) / item.file
                path.write_text(published_package(outdir, urls, plan.contact), encoding="utf-8")
            ledger.note(envoi=item.file)
            reply = api.call("POST", f"/datasets/{dataset}/upload/", upload=path)
            resource = expect(reply, UPLOADED, f"envoi de {item.file}")
            ids[item.file], urls[item.file] = resource["id"], resource["url"]
            ledger.state[JOURNAL].pop("envoi")
            ledger.note(resources=dict(ids))
            payload = {
                "title": edited.get(item.file, {}).get("title") or item.title,
                "description": edited.get(item.file, {}).get("description") or item.description,
                "type": item.kind,
                "format": item.format,
            }
            if item.schema_name:
                payload["schema"] = {"name": item.schema_name, "version": plan.version}
            elif item.schema_file:
                payload["schema"] = {"url": urls[item.schema_file]}
            api.call("PUT", f"/datasets/{dataset}/resources/{resource['id']}/", payload)
    return ids


def published_package(outdir: Path, urls: dict[str, str], contact: str | None = None) -> str:
    """datapackage.json with each relative path replaced by the address of the uploaded file, and
    the contact among its contributors."""
    package = json.loads((outdir / "datapackage.json").read_text(encoding="utf-8"))
    for resource in package["resources"]:
        resource["path"] = urls[resource["path"]]
        resource["schema"] = urls[resource["schema"]]
    if contact:
        where = {"email": contact} if "@" in contact and "/" not in contact else {"path": contact}
        package.setdefault("contributors", []).append({"title": "Contact", "role": "maintainer", **where})
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"


def roll_back(api: Api, ledger: Ledger, error: PublishError) -> None:
    """Remove what this run put on the server, then raise; what cannot be removed stays in
    publication.json for the next run to remove first, and is said."""
    try:
        resolve(api, ledger)
        leftovers = ledger.journal
        undo(api, ledger)
    except PublishError as failure:
        raise PublishError(
            f"{error} ; l'annulation a échoué ({failure}) : restent sur {api.root} "
            f"{leftover_text(ledger.journal)} ; ils sont notés dans {STATE_FILE} "
            "et la prochaine publication les supprime d'abord"
        ) from error
    undone = (
        "le jeu de données créé a été supprimé"
        if leftovers.get("jeu_cree") and leftovers.get("dataset")
        else "les nouveaux fichiers ont été retirés"
        if leftovers.get("resources")
        else "rien n'avait été créé"
    )
    raise PublishError(f"{error} ; {undone} : rien n'a changé en ligne") from error


def clean_leftovers(api: Api, ledger: Ledger) -> None:
    """What a stopped run left on the server (its journal in publication.json), removed first."""
    leftovers = ledger.journal
    if not leftovers:
        return
    try:
        removed = undo(api, ledger)
    except PublishError as error:
        raise PublishError(
            f"restes d'une publication interrompue toujours en ligne ({leftover_text(ledger.journal)}) : "
            f"{error}"
        ) from error
    api.echo(f"restes de la publication interrompue supprimés : {removed}")


def undo(api: Api, ledger: Ledger) -> str:
    """Delete what the journal names, noting each deletion: a created dataset (found by its mark
    when its id never came back), else the new resources, and one whose upload got no answer.
    Returns what was deleted, in words."""
    resolve(api, ledger)
    journal = ledger.journal
    if journal.get("jeu_cree"):
        removed = leftover_text(journal) if journal["dataset"] else "rien, le jeu n'a pas été créé"
        if journal["dataset"]:
            delete(api, f"/datasets/{journal['dataset']}/")
        ledger.close()
        return removed
    removed = leftover_text(journal)
    for name, rid in list(journal.get("resources", {}).items()):
        delete(api, f"/datasets/{journal['dataset']}/resources/{rid}/")
        ledger.note(resources={k: v for k, v in ledger.journal["resources"].items() if k != name})
    ledger.close()
    return removed


def resolve(api: Api, ledger: Ledger) -> None:
    """What the journal knows of only by a request whose answer never came, looked up on the
    server: the dataset a run was creating, by its mark; the resource a file was being uploaded
    to."""
    journal = ledger.journal
    if journal.get("jeu_cree") and not journal.get("dataset"):
        ledger.note(dataset=marked_dataset(api, journal.get("marque")))
    elif not journal.get("jeu_cree") and journal.get("envoi"):
        ledger.note(resources=journal.get("resources", {}) | strays(api, journal))
        ledger.state[JOURNAL].pop("envoi")
        ledger.save()


def delete(api: Api, path: str) -> None:
    try:
        api.call("DELETE", path)
    except PublishError as error:
        if error.status != 404:  # already gone is what was wanted
            raise


def marked_dataset(api: Api, mark: str | None) -> str | None:
    """The dataset a run created but never heard the id of, among the user's and their
    organisations' datasets, private ones included."""
    reply = api.call("GET", "/me/org_datasets/")
    if not isinstance(reply, list):
        raise PublishError(f"recherche du jeu en création : réponse inattendue du serveur ({excerpt(reply)})")
    for dataset in reply:
        if isinstance(dataset, dict) and (dataset.get("extras") or {}).get(MARK) == mark:
            return expect(dataset, DATASET, "recherche du jeu en création")["id"]
    return None


def strays(api: Api, journal: dict) -> dict[str, str]:
    """The resource an upload made without its answer reaching the run: on the dataset, not there
    before the run, not noted since, and named as the file being sent (udata titles an uploaded
    file with its name)."""
    dataset, name = journal["dataset"], journal["envoi"]
    reply = expect(api.call("GET", f"/datasets/{dataset}/"), RESOURCES, f"lecture du jeu {dataset}")
    known = set(journal.get("avant", [])) | set(journal.get("resources", {}).values())
    return {
        f"{name} ({resource['id']})": resource["id"]
        for resource in resource_list(reply, dataset)
        if resource["id"] not in known
        and name in (str(resource.get("url", "")).rsplit("/", 1)[-1], resource.get("title"))
    }


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
