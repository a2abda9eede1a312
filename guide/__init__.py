"""The clinic's knowledge, read and checked: neutral ground for the NLU and the actions.

``knowledge/`` holds the files people edit; this package reads them. Both the NLU
components (at training time) and the actions (at the action server's start) import
it; it imports neither of them, nor Rasa or rasa-sdk, so either side can change
without touching the other.

- ``paths``      which knowledge files to read (``GUIDE_FILE``, ``LAY_TERMS_FILE``,
                 ``RED_FLAGS_FILE``, with defaults): one function for the action server,
                 the NLU components and the Makefile (``python -m guide.paths``)
- ``parsing``    the guide and its lay-terms file -> a checked ``Guide``
                 (``load_guide``, ``KnowledgeFileError``)
- ``model``      ``Guide``, ``Section``, ``Item``, ``Concept`` and the look-ups on them
- ``words``      word-level helpers (stems, whole-word mentions, slugs, sentences)
- ``red_flags``  the red-flag phrase file, its word classes expanded (``read_flags``,
                 ``RedFlagFileError``)
- ``negation``   is a symptom mentioned a present one? (``SymptomContext``); its word
                 lists and patterns live in ``symptom_cues``

Nothing here runs at import time, and this file imports nothing: ``python -m
guide.paths`` must work with a bare ``python3`` before the virtualenv exists.
"""
