"""The parties: name, sigle, address and representative of each, with its role."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace

import regex

from pipeline.extract.names import clean, fold, org_name, person_name
from pipeline.extract.segment import PartyBlock
from pipeline.model import Candidate, Document, warning
from pipeline.patterns import Patterns

ROLES = ("delegant", "delegataire")
ROLE_LABELS = {"delegant": "délégant", "delegataire": "délégataire"}


@dataclass(slots=True)
class Party:
    span: PartyBlock | None
    role: str | None = None
    role_source: str = "text"  # "text", "side", "complement", "order" or "signature"
    fields: dict[str, Candidate] = field(default_factory=dict)  # "nom", "representant.nom"...


def extract_parties(
    doc: Document, blocks: list[PartyBlock], patterns: Patterns, cut: int | None = None
) -> list[Party]:
    """The parties in text order; in a text cut short at `cut`, what runs into the cut is a piece
    of a value, left out."""
    parties = [read_party(doc, block, patterns) for block in blocks]
    for party in parties:
        party.fields = {key: c for key, c in party.fields.items() if cut is None or c.evidence.end < cut}
    parties = [party for party in parties if party.fields]
    assign_roles(doc, parties, patterns)
    for party in parties:
        if "sigle" not in party.fields:
            sigle = sigle_from_initials(doc, party, patterns)
            if sigle:
                party.fields["sigle"] = sigle
    return [party for party in parties if party.role]


def main_parties(parties: list[Party]) -> dict[str, Party]:
    """The délégant and the délégataire of the record: for each role, the first party whose own
    block states it, else the first party given it."""
    found = {}
    for role in ROLES:
        holders = [p for p in parties if p.role == role]
        stated = [p for p in holders if p.role_source == "text"]
        if stated or holders:
            found[role] = (stated or holders)[0]
    return found


def read_party(doc: Document, block: PartyBlock, patterns: Patterns) -> Party:
    party = Party(block)
    noise_lines = patterns.regex("parties", "noise_lines")
    noise = noise_lines.match(doc.plain, skip_space(doc.plain, block.start), block.end)
    start = noise.end() if noise else block.start
    text = unwrapped(doc.plain, start, block.end, patterns)
    article = patterns.regex("parties", "article").match(text, start, block.end)
    name_start = article.end() if article else skip_space(text, start)
    name, bracket = read_name(doc, text, name_start, block.end, patterns)
    if name:
        party.fields["nom"] = name
        if sigle := name_sigle(doc, text, name, bracket, block, patterns):
            party.fields["sigle"] = sigle
    address = patterns.regex("parties", "address").search(text, block.start, block.end)
    if address:
        party.fields["adresse"] = group_candidate(doc, address, "value", 0.85, "parties.address", clean)
    elif street := patterns.regex("parties", "street_address").search(text, block.start, block.end):
        party.fields["adresse"] = group_candidate(doc, street, "value", 0.75, "parties.street_address", clean)
    party.fields.update(representative(doc, text, block, patterns))
    return party


def unwrapped(text: str, start: int, end: int, patterns: Patterns) -> str:
    """The text with the lines wrapped inside a phrase between start and end joined by spaces,
    every offset kept."""
    inner = patterns.regex("parties", "wrapped_line").sub(lambda m: " " * len(m[0]), text[start:end])
    return text[:start] + inner + text[end:]


def read_name(
    doc: Document, text: str, start: int, stop: int, patterns: Patterns
) -> tuple[Candidate | None, regex.Match | None]:
    """The designation up to where it ends, brackets that the designation goes on after
    skipped; what only attaches the party to its ministry dropped. With it, the first bracket
    after a piece of it: the party's sigle."""
    pieces, position, first_bracket = [], start, None
    while True:
        end_match = patterns.regex("parties", "name_end").search(text, position, stop)
        end = end_match.start() if end_match else stop
        pieces.append(text[position:end])
        bracket = patterns.regex("parties", "sigle_in_name").match(text, end, stop)
        first_bracket = first_bracket or bracket
        if not bracket or not patterns.regex("parties", "bracket_continues").match(text, bracket.end(), stop):
            break
        position = bracket.end()
    raw = clean(" ".join(pieces))
    if not raw:
        return None, None
    value = without_ministry(doc, raw, bracket, patterns)
    if value != raw and bracket:
        # "… du ministère de la défense (SIMMAD)": the sigle may stand for the whole of it.
        candidate = Candidate(org_name(value), doc.evidence(start, end), 0.7, "parties.name_without_ministry")
    else:
        candidate = Candidate(org_name(value), doc.evidence(start, end), 0.9, "parties.name")
    return candidate, first_bracket


def without_ministry(doc: Document, raw: str, bracket: regex.Match | None, patterns: Patterns) -> str:
    """The name without "… du ministère de …", unless it names nothing without it, or the
    sigle in the bracket after it stands for it whole: the text's list of sigles says so, or its
    letters go on with the ministry's ("… pour l'administration du ministère de l'intérieur
    (SGAMI)")."""
    ministry = patterns.regex("parties", "ministry").search(raw)
    if not ministry:
        return raw
    head = raw[: ministry.start()]
    needed = {fold(words) for words in patterns["parties"]["ministry_needed"]}
    if fold(head) in needed:
        return raw
    if bracket and (
        spells_beyond(bracket["sigle"], head, raw, patterns)
        or "minist" in fold(sigle_expansion(doc, bracket["sigle"], patterns))
    ):
        return raw
    return head


def spells_beyond(sigle: str, head: str, raw: str, patterns: Patterns) -> bool:
    """Whether the sigle ("SGAMI", "SGAMI Ouest") spells more of the name's initials than the
    head's."""
    letters = sigle.split()[0].upper()
    return len(letters) > len(acronym(head, patterns)) and acronym(raw, patterns).startswith(letters)


def sigle_expansion(doc: Document, sigle: str, patterns: Patterns) -> str:
    """What the text's own list of sigles says a sigle stands for ("SIMMAD : Structure …")."""
    source = patterns.source("parties", "sigle_definition").replace("{sigle}", re.escape(sigle))
    match = re.search(source, doc.plain, re.MULTILINE)
    return match["expansion"] if match else ""


def name_sigle(
    doc: Document, text: str, name: Candidate, bracket, block: PartyBlock, patterns: Patterns
) -> Candidate | None:
    """The bracket right after the name, the alias the block gives the party, or the name itself
    when the party is named by its acronym ("La DAE")."""
    sigle = bracket or patterns.regex("parties", "sigle_alias").search(text, block.start, block.end)
    if sigle:
        return group_candidate(doc, sigle, "sigle", 0.9, "parties.sigle", clean)
    if patterns.regex("parties", "acronym_name").fullmatch(name.value):
        return Candidate(name.value, name.evidence, 0.85, "parties.sigle_is_name")
    return None


def representative(doc: Document, text: str, block: PartyBlock, patterns: Patterns) -> dict[str, Candidate]:
    for index, rule in enumerate(patterns["parties"]["representative"]):
        rule_regex = patterns.regex("parties", "representative", index, "pattern")
        match = rule_regex.search(text, block.start, block.end)
        if not match:
            continue
        found = {}
        name = f"parties.representative.{rule['name']}"
        if match.groupdict().get("name"):
            found["representant.nom"] = group_candidate(
                doc, match, "name", rule["confidence"], name, person_name
            )
        if match.groupdict().get("function"):
            start = match.start("function")
            end = start + first_title_end(match["function"])
            found["representant.fonction"] = Candidate(
                clean(text[start:end]), doc.evidence(start, end), rule["confidence"] - 0.1, name
            )
        return found
    return {}


def first_title_end(function: str) -> int:
    """Where the other titles of an office-holder start: "préfet de la région Bretagne, préfet
    d'Ille-et-Vilaine", "recteur de la région académique, recteur de l'académie de Paris"."""
    words = function.split()
    for comma in re.finditer(r",\s*", function):
        following = function[comma.end() :].split()
        if words and following and fold(following[0]) == fold(words[0]):
            return comma.start()
    return len(function.rstrip())


def skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\n,:*•-":
        position += 1
    return position


def group_candidate(doc, match, group, confidence, rule, normalise) -> Candidate:
    start, end = match.span(group)
    return Candidate(normalise(match[group]), doc.evidence(start, end), confidence, rule)


def assign_roles(doc: Document, parties: list[Party], patterns: Patterns) -> None:
    """Roles stated in each block (a plural one, "« les codélégataires »", for the parties of its
    side before it too), else in the body; a party that states none takes the role stated on
    its side of "d'une part", else the complement of the other side's; else the first party
    named is the délégant, as in the décret's model."""
    plural = {fold(word) for word in patterns["roles"]["plural"]}
    for index, party in enumerate(parties):
        role, word = read_role(doc, party.span, patterns)
        party.role = role
        if role and fold(word) in plural:
            share_role(parties[:index], party, role)
    if not any(party.role for party in parties):
        roles_from_body(doc, parties, patterns)
    for party in parties:
        if party.role:
            continue
        same_side = {p.role for p in parties if p.role and p.span.side == party.span.side}
        other_side = {p.role for p in parties if p.role and p.span.side != party.span.side}
        stated = {p.role for p in parties if p.role}
        if len(same_side) == 1 and len({p.span.side for p in parties}) > 1:
            party.role, party.role_source = same_side.pop(), "side"
        elif len(other_side) == 1 and not same_side:
            party.role, party.role_source = complement(other_side.pop()), "complement"
        elif len(stated) == 1 and len(parties) == 2:
            party.role, party.role_source = complement(stated.pop()), "complement"
        else:
            continue
        doc.warnings.append(
            warning("role_par_complement", party=name_of(party), role=ROLE_LABELS[party.role])
        )
    unknown = [p for p in parties if not p.role]
    if unknown and not any(p.role for p in parties):
        for index, party in enumerate(parties):
            party.role, party.role_source = ROLES[min(index, 1)], "order"
    for party in parties:
        if party.role is None:
            party.role, party.role_source = "delegataire", "order"


def share_role(before: list[Party], party: Party, role: str) -> None:
    """The role said of several parties goes to those of its side named just before it."""
    for other in reversed(before):
        if other.role or other.span.side != party.span.side:
            return
        other.role = role


def roles_from_body(doc: Document, parties: list[Party], patterns: Patterns) -> None:
    """The roles the first sentence of the body that names them gives: "la délégation de
    gestion par la DGCS à la DNUM", "la DRAAF, ci-après « le délégant », confie …"."""
    refs = {ref: party for party in parties for ref in references(doc, party, patterns)}
    if not refs:
        return
    names = "|".join(
        f"(?-i:{regex.escape(ref)})" if ref.isupper() else r"\s+".join(map(regex.escape, ref.split()))
        for ref in sorted(refs, key=len, reverse=True)
    )
    article = patterns.source("roles", "body_article")
    first = None
    for index in range(len(patterns["roles"]["body_roles"])):
        source = patterns.source("roles", "body_roles", index)
        for slot in ("delegant", "delegataire", "party"):
            source = source.replace(f"{{{slot}}}", rf"{article}(?P<{slot}>(?<!\w)(?:{names})(?!\w))")
        match = regex.search(source, doc.plain, regex.IGNORECASE | regex.MULTILINE | regex.VERSION0)
        if match and (first is None or match.start() < first.start()):
            first = match
    if first is None:
        return
    said = first.groupdict()
    if said.get("party"):
        found = {"party": role_of(said["role"].lower(), patterns)}
    else:
        found = {"delegant": "delegant", "delegataire": "delegataire"}
    for slot, role in found.items():
        party = next(p for ref, p in refs.items() if fold(ref) == fold(said[slot]))
        party.role, party.role_source = role, "body"


def references(doc: Document, party: Party, patterns: Patterns) -> list[str]:
    """How the body may name a party: its name, its sigle, or an alias its block gives it that
    is no role ("ci-après « l'Agence »")."""
    refs = [party.fields[key].value for key in ("nom", "sigle") if key in party.fields]
    aliases = patterns.regex("parties", "alias").finditer(doc.plain, party.span.start, party.span.end)
    refs += [m["alias"] for m in aliases if not patterns.regex("roles", "role_word").match(m["alias"])]
    return refs


def complement(role: str) -> str:
    return next(r for r in ROLES if r != role)


def weigh_by_role(parties: list[Party], patterns: Patterns) -> None:
    """A party's fields are as sure as its role: a role two readings allow goes to review."""
    for party in parties:
        factor = patterns["roles"]["confidence_by_source"][party.role_source]
        if factor < 1:
            party.fields = {
                key: replace(c, confidence=round(c.confidence * factor, 3)) for key, c in party.fields.items()
            }


def name_of(party: Party) -> str:
    nom = party.fields.get("nom")
    return nom.value if nom else "?"


def read_role(doc: Document, block: PartyBlock | None, patterns: Patterns) -> tuple[str | None, str]:
    """The role a party's block states, with the word that states it."""
    if block is None:
        return None, ""
    rules = patterns["roles"]
    skipped = [fold(word) for word in rules["not_roles"]]
    for match in patterns.regex("roles", "role_word").finditer(doc.plain, block.intro, block.end):
        word = match[0].lower()
        following = doc.plain[match.start() : match.end() + 12]
        if fold(word) in skipped or any(fold(following).startswith(s) for s in skipped):
            continue
        role = role_of(word, patterns)
        if role:
            if word not in rules[role]:
                doc.warnings.append(warning("mention_de_role", mention=match[0], role=ROLE_LABELS[role]))
            return role, word
    return None, ""


def role_of(word: str, patterns: Patterns) -> str | None:
    """classify_role, once per word and process: the same few words recur in every text."""
    key = ("role_of", word)
    if key not in patterns.cached:
        patterns.cached[key] = classify_role(word, patterns["roles"])
    return patterns.cached[key]


def classify_role(word: str, rules: dict) -> str | None:
    """The role whose label is closest to the word, when close enough."""
    best = max(
        (
            (difflib.SequenceMatcher(None, word, label).ratio(), role)
            for role in ROLES
            for label in rules[role]
        ),
    )
    return best[1] if best[0] >= rules["similarity"] else None


def acronym(name: str, patterns: Patterns) -> str:
    skip = set(patterns["parties"]["initials_skip"])
    words = re.findall(r"[A-Za-zÀ-ÿ]+", name.replace("'", " ").replace("’", " "))
    return "".join(word[0] for word in words if word.lower() not in skip).upper()


def sigle_from_initials(doc: Document, party: Party, patterns: Patterns) -> Candidate | None:
    """A sigle the text uses that spells the party's initials: DGITM for Direction générale des
    infrastructures, des transports et de la mer."""
    nom = party.fields.get("nom")
    if not nom:
        return None
    initials = acronym(nom.value, patterns)
    if len(initials) < 3:
        return None
    match = re.search(rf"\b{initials}\b", doc.plain)
    if not match:
        return None
    return Candidate(initials, doc.evidence(*match.span()), 0.7, "parties.sigle_initials")
