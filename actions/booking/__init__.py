"""Booking and second-opinion requests: the ``booking_form`` and its actions.

Flow: ``action_start_booking`` (the request type from the intent, the specialist
from the conversation, a fresh nonce) -> ``booking_form`` asks only for what is
missing -> ``action_ask_booking_form_booking_confirmed`` shows a summary -> on
"yes" ``action_submit_booking`` stores the request (once: the idempotency key is
the conversation id + the nonce), notifies staff and gives the reference.

``validate_booking_form`` reads every answer. Rasa's NLU has no model for names,
e-mails or dates, so the form takes the patient's text and the parsers here make
sense of it (``phonenumbers``, ``dateparser``). A message may also correct another
field ("actually my email is ...") or leave the form: an emergency, "cancel", a
request for a person or for deletion, and a question about the guide are turned
back (no slot filled), so that the rules in data/rules/booking.yml handle them and
the form resumes where it was.

Modules, from pure to Rasa-facing:

- ``slots``        slot names, the values they take, ``clear_booking``
- ``parsing``      names, contacts, request types, notes, questions (pure functions of text)
- ``times``        preferred days and times in the patient's words (pure)
- ``specialists``  the specialist from the guide, the message or the conversation
- ``clinic_time``  "now" in the clinic's time zone (the one place tests set the clock)
- ``message``      what the latest message means for the form: leave it, or fill which slots
- ``validation``   ``validate_booking_form`` (``ValidateBookingForm``)
- ``actions``      ``action_start_booking``, ``action_ask_booking_form_booking_confirmed``,
                   ``action_submit_booking``, ``action_cancel_booking``
"""
