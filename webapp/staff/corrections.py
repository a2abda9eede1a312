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


def correct_message(conn, sender: str, event_id: int, intent: str, annotated: str, actor: str,
                    intents: Sequence[str], entities: Sequence[str]) -> None:
    row = conn.execute(sa.select(t.events.c.id, t.events.c.intent_name, t.events.c.data).where(
        t.events.c.id == event_id, t.events.c.sender_id == sender, t.events.c.type_name == "user")).first()
    if row is None:
        raise InputError("That message is not part of this conversation.")
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

    examples, seen = [], set()
    for row in conn.execute(sa.select(t.corrections).order_by(t.corrections.c.intent, t.corrections.c.id)):
        key = (row.intent, row.text)
        if key in seen:
            continue
        seen.add(key)
        data = {"text": row.text, "intent": row.intent}
        entities = json.loads(row.entities or "[]")
        if entities:
            data["entities"] = entities
        examples.append(Message(data=data))
    if not examples:
        return 'version: "3.1"\nnlu: []\n', 0
    return RasaYAMLWriter().dumps(TrainingData(training_examples=examples)), len(examples)


def export_training_data(conn, actor: str, ip: Optional[str]) -> str:
    """The training data file, its export audited."""
    body, count = training_data_yaml(conn)
    audit(conn, actor, "export_training_data", None, f"examples={count}", ip)
    return body
