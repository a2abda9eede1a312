"""What this project adds to the Rasa server process, installed by ``tools/rasa_cli.py``.

Every Rasa command of the project runs through ``python -m tools.rasa_cli``, which
calls ``install()`` before Rasa starts:

* ``rasa_ext.safety``: when the action server cannot be reached, the patient still
  gets emergency advice for a red flag, and otherwise an apology with the clinic's
  phone number, rendered from the domain's responses inside Rasa (no action server);
* ``rasa_ext.server``: ``GET /`` answers ``ok`` without Rasa's version, and request
  bodies are capped (1 MB) before any channel reads them;
* ``rasa_ext.tracker_store``: a storage error fails one turn instead of stopping Rasa;
* ``rasa_ext.form_answers``: an answer to a form's free-text question is recorded as
  ``inform``, not as an NLU failure;
* ``rasa_ext.action_calls``: the action server's answer checked with a schema validator
  built once (Rasa rebuilt it on every call: 19.5 ms per call);
* ``rasa_ext.model_loading``: the intent classifier's weights loaded without Rasa's
  one-example training step (7 of a replica's 12 s of loading), predicting the same;
* ``rasa_ext.lock_store``: the Redis lock store holds a conversation for one replica at a
  time (Rasa's read-modify-write ticket queue let two replicas in at once and lost turns).

Nothing here imports ``actions``; settings come from ``clinic.settings``.
"""

from __future__ import annotations


def install() -> None:
    from rasa_ext import action_calls, form_answers, lock_store, model_loading, safety, server, tracker_store

    action_calls.install()
    model_loading.install()
    lock_store.install()
    form_answers.install()
    safety.install()
    server.install()
    tracker_store.install()
