"""Answer-level evaluation of the running assistant against patient-style probe sets.

Sends every probe of each set to a running Rasa server through the REST channel (one
fresh sender id per single probe, one sender id per conversation), checks each reply
against the clinic's guide and the responses of ``domain.yml``, answers the same messages
with a plain semantic-search baseline, and writes one report over all sets::

    python -m tools.answer_eval --url http://127.0.0.1:5005 \\
        --set sealed=tests/eval/blind/sealed.yml:sealed --set dev=tests/eval/blind/dev.yml \\
        --set old=tests/eval/probes.yml --out reports/eval [--gate]

    python -m tools.answer_eval --probes tests/eval/probes.yml   # one unsealed set
    python -m tools.answer_eval --check-probes     # validate the probe file only

A sealed set (``NAME=PATH:sealed``) shows only its totals, everywhere.

Modules, one concern each:

- ``checks``     does a reply meet an expectation (the guide's text, domain.yml's responses)
- ``probes``     the probe file: reading, validating, coverage
- ``sets``       the run's sets (``--set NAME=PATH[:sealed]``), which one the gate judges
- ``runner``     sending probes and conversations through Rasa's REST channel; emergencies
- ``baseline``   the semantic-search baseline (nearest guide passage), scored the same way
- ``report``     one set's summary, its totals, and its details (report.md, console)
- ``run_report`` the whole run: summary table, report.md / report.json, the console
- ``cli``        the command line (``python -m tools.answer_eval`` runs ``cli.main``)
"""
