"""Personal data is declared once (storage/personal_data.py), and the declaration covers the domain."""

from __future__ import annotations

import yaml

from storage import personal_data
from tests.conftest import ROOT


def domain_files():
    return [ROOT / "domain.yml"]


def all_slots():
    slots = {}
    for path in domain_files():
        slots.update((yaml.safe_load(path.read_text()) or {}).get("slots") or {})
    return slots


def form_slots():
    filled = set()
    for path in domain_files():
        for form in ((yaml.safe_load(path.read_text()) or {}).get("forms") or {}).values():
            filled |= set((form or {}).get("required_slots") or [])
    return filled


def test_every_slot_a_form_fills_is_declared():
    """A new form question must say whether its answer is personal, or this test fails."""
    undeclared = form_slots() - set(personal_data.PERSONAL_SLOTS) - personal_data.NOT_PERSONAL_SLOTS
    assert not undeclared, f"declare these in storage/personal_data.py: {sorted(undeclared)}"


def test_every_slot_of_the_domain_is_declared():
    undeclared = set(all_slots()) - set(personal_data.PERSONAL_SLOTS) - personal_data.NOT_PERSONAL_SLOTS
    assert not undeclared, f"declare these in storage/personal_data.py: {sorted(undeclared)}"


def test_no_slot_is_both_and_the_kinds_are_known():
    assert not set(personal_data.PERSONAL_SLOTS) & personal_data.NOT_PERSONAL_SLOTS
    assert set(personal_data.PERSONAL_SLOTS.values()) <= set(personal_data.KINDS)
    assert set(personal_data.PERSONAL_REQUEST_FIELDS.values()) <= set(personal_data.KINDS)


def test_the_booking_forms_name_and_contacts_are_personal():
    """Finding 7: the console masked `full_name`, but the form's slots are `booking_*`."""
    for slot in ("booking_full_name", "booking_email", "booking_phone", "booking_contact", "booking_note"):
        assert personal_data.is_personal_slot(slot)


def test_the_request_tables_personal_columns_are_declared():
    from storage.tables import requests as requests_table

    columns = {c.name for c in requests_table.columns}
    assert set(personal_data.PERSONAL_REQUEST_FIELDS) <= columns
    assert {"full_name", "email", "phone", "note"} <= set(personal_data.PERSONAL_REQUEST_FIELDS)
