"""Answer-level evaluation of the running assistant against patient-style probes.

Sends every probe of ``tests/eval/probes.yml`` to a running Rasa server through the
REST channel (one fresh sender id per single probe, one sender id per conversation),
checks each reply against the clinic's guide and the responses of ``domain.yml``, and
writes a report::

    python -m tools.answer_eval --url http://127.0.0.1:5005 \\
        --probes tests/eval/probes.yml --out reports/eval [--gate]

    python -m tools.answer_eval --check-probes     # validate the probe file only

Modules, one concern each:

- ``checks``   does a reply meet an expectation (the guide's text, domain.yml's responses)
- ``probes``   the probe file: reading, validating, coverage
- ``runner``   sending probes and conversations through Rasa's REST channel
- ``report``   the summary, report.md / report.json and the console print-out
- ``cli``      the command line (``python -m tools.answer_eval`` runs ``cli.main``)
"""
