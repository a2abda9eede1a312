"""Corrections of recognised messages, and the Rasa NLU training data made of them."""

from __future__ import annotations

import json
import re
from typing import Optional, Sequence, Tuple

import sqlalchemy as sa

from storage.time import utcnow as now
from webapp.staff import tables as t
from webapp.staff.audit import audit
from webapp.staff.common import InputError, conversation_target
from webapp.staff.summary import parse_event, user_intent
from webapp.staff.transcript import MAX_EXAMPLE, annotate


def parse_example(annotated: str, intent: str, intents: Sequence[str], entities: Sequence[str]):
    """Check a corrected message; returns (plain text, entities) or raises InputError."""
    from rasa.shared.nlu.training_data.entities_parser import parse_training_example

    annotated = (annotated or "").strip()
    if not annotated:
        raise InputError("The message text is empty.")
    if len(annotated) > MAX_EXAMPLE or "\n" in annotated or "\r" in annotated:
        raise InputError(f"The message is one line of at most {MAX_EXAMPLE} characters.")
    if intents and intent not in intents:
        raise InputError("Choose an intent of the assistant's domain.")
    if not re.fullmatch(r"[A-Za-z0-9_\-/]{1,255}", intent or ""):
        raise InputError("The intent name is not valid.")
    try:
        message = parse_training_example(annotated, intent)
    except Exception as exc:  # rasa raises plain exceptions for malformed annotations
        raise InputError(f"The entity annotation cannot be read: {str(exc)[:200]}") from None
    found = []
    for ent in message.get("entities") or []:
        if entities and ent.get("entity") not in entities:
            raise InputError(f"Unknown entity {ent.get('entity')!r}: use one of the domain's entities.")
        found.append({k: ent[k] for k in ("start", "end", "value", "entity", "role", "group") if k in ent})
    text = message.get("text") or ""
    if not text.strip():
        raise InputError("The message text is empty.")
    return text, found


MAX_ENTITIES = 10


def example_from_words(text: str, picks: Sequence[Tuple[str, str]], intent: str, intents: Sequence[str],
                       entities: Sequence[str]):
    """A corrected message from its plain text and (entity, words) picks; the words must be
    in the text (any case). Entities may overlap ("kidney stone" a type, "kidney" a place)."""
    text = " ".join((text or "").split())
    if not text:
        raise InputError("The message text is empty.")
    if len(text) > MAX_EXAMPLE:
        raise InputError(f"The message is one line of at most {MAX_EXAMPLE} characters.")
    if intents and intent not in intents:
        raise InputError("Choose an intent of the assistant's domain.")
    if not re.fullmatch(r"[A-Za-z0-9_\-/]{1,255}", intent or ""):
        raise InputError("The intent name is not valid.")
    found, lower = [], text.lower()
    for entity, words in picks:
        words = " ".join((words or "").split())
        if not entity and not words:
            continue
        if not entity or not words:
            raise InputError("An entity needs both its kind and the words it covers.")
        if entities and entity not in entities:
            raise InputError(f"Unknown entity {entity!r}: use one of the domain's entities.")
        start = lower.find(words.lower())
        if start < 0:
            raise InputError(f"{words!r} is not in the message: pick words of the message.")
        span = {"start": start, "end": start + len(words), "value": text[start:start + len(words)],
                "entity": entity}
        if span not in found:
            found.append(span)
    if len(found) > MAX_ENTITIES:
        raise InputError(f"At most {MAX_ENTITIES} entities in one message.")
    return text, sorted(found, key=lambda e: (e["start"], -e["end"]))


def correct_message(conn, sender: str, event_id: int, intent: str, annotated: str, actor: str,
                    intents: Sequence[str], entities: Sequence[str],
                    picks: Optional[Sequence[Tuple[str, str]]] = None) -> None:
    """Save a correction: the plain text with entities picked from its words, or (for
    clients of the older form) a message in training-data syntax."""
    row = conn.execute(sa.select(t.events.c.id, t.events.c.intent_name, t.events.c.data).where(
        t.events.c.id == event_id, t.events.c.sender_id == sender, t.events.c.type_name == "user")).first()
    if row is None:
        raise InputError("That message is not part of this conversation.")
    if picks is not None:
        text, found = example_from_words(annotated, picks, intent, intents, entities)
    else:
        text, found = parse_example(annotated, intent, intents, entities)
    original, _ = user_intent(parse_event(row.data), row.intent_name)
    values = {"intent": intent, "text": text, "entities": json.dumps(found, ensure_ascii=False),
              "author": actor, "updated_at": now(), "original_intent": original}
    done = conn.execute(t.corrections.update().where(t.corrections.c.event_id == event_id).values(**values))
    if done.rowcount == 0:
        conn.execute(t.corrections.insert().values(event_id=event_id, conversation_id=sender,
                                                   created_at=values["updated_at"], **values))
    audit(conn, actor, "correct_message", conversation_target(sender), f"{original} -> {intent}")


def list_corrections(conn) -> list:
    c = t.corrections.c
    rows = conn.execute(sa.select(t.corrections, t.conversations.c.id.label("conv_id"))
                        .select_from(t.corrections.outerjoin(
                            t.conversations, t.conversations.c.sender_id == c.conversation_id))
                        .order_by(c.updated_at.desc(), c.id.desc())).all()
    return [{"id": r.id, "conv_id": r.conv_id, "intent": r.intent, "original_intent": r.original_intent,
             "annotated": annotate(r.text, json.loads(r.entities or "[]")), "author": r.author,
             "updated": r.updated_at} for r in rows]


def delete_correction(conn, correction_id: int, actor: str) -> None:
    row = conn.execute(sa.select(t.corrections).where(t.corrections.c.id == correction_id)).first()
    if row is None:
        raise InputError("No such correction.")
    conn.execute(t.corrections.delete().where(t.corrections.c.id == correction_id))
    audit(conn, actor, "correction_delete", conversation_target(row.conversation_id), row.intent)


def training_data_yaml(conn) -> Tuple[str, int]:
    """The corrected messages as Rasa NLU training data (YAML, ``version: "3.1"``)."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples, seen, dropped = [], set(), 0
    for row in conn.execute(sa.select(t.corrections).order_by(t.corrections.c.intent, t.corrections.c.id)):
        key = (row.intent, row.text)
        if key in seen:
            continue
        seen.add(key)
        data = {"text": row.text, "intent": row.intent}
        entities, left_out = without_overlaps(json.loads(row.entities or "[]"))
        dropped += left_out
        if entities:
            data["entities"] = entities
        examples.append(Message(data=data))
    if not examples:
        return 'version: "3.1"\nnlu: []\n', 0
    body = RasaYAMLWriter().dumps(TrainingData(training_examples=examples))
    if dropped:  # Rasa's format cannot hold overlapping spans; the console keeps them all
        body = (f"# {dropped} entity span(s) overlapping a longer one are kept in the staff console "
                "but left out here: Rasa's training data cannot hold overlapping entities.\n") + body
    return body, len(examples)


def without_overlaps(entities: list) -> Tuple[list, int]:
    """Entities Rasa's YAML can hold: longer spans first, then any span that does not
    overlap a kept one (the same span with several entities stays); and how many left out."""
    kept: list = []
    for ent in sorted((e for e in entities if isinstance(e, dict)),
                      key=lambda e: (-(e.get("end", 0) - e.get("start", 0)), e.get("start", 0))):
        same = [k for k in kept if (k["start"], k["end"]) == (ent["start"], ent["end"])]
        clash = [k for k in kept if k["start"] < ent["end"] and ent["start"] < k["end"]]
        if not clash or same:
            kept.append(ent)
    return sorted(kept, key=lambda e: e["start"]), len(entities) - len(kept)


def export_training_data(conn, actor: str, ip: Optional[str]) -> str:
    """The training data file, its export audited."""
    body, count = training_data_yaml(conn)
    audit(conn, actor, "export_training_data", None, f"examples={count}", ip)
    return body
