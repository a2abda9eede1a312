"""Custom NLU components, loaded by Rasa by module path from config.yml.

- ``text_guard``       ``TextCleaner`` (first) and ``NoWordsClassifier``
- ``spacy_pipeline``   builds and loads the small spaCy pipeline (tokens + lemmas)
- ``phrase_matching``  typo-tolerant phrase matching, shared by the two below
- ``guide_entities``   ``GuideEntityFeaturizer`` and ``GuideEntityExtractor``: the guide's phrases
- ``red_flags``        ``RedFlagMatcher`` (last): red-flag phrases override the intent
- ``knowledge_source`` which knowledge files a component was trained from

The knowledge files are read through ``guide/`` (paths, parsing); nothing here
imports ``actions/``, and the actions import nothing from here.
"""
