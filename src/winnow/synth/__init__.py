"""Synthetic data with any OpenAI-compatible LLM server (``pip install 'winnow[synth]'``).

* ``client``: one async request, one attempt (httpx); ``engine``: limits, retries, circuit, journal;
  ``limits``: adaptive concurrency, per-minute rate limits, the circuit; ``journal``: exact resume.
* ``stage``: the base of the tasks (a global stage whose ``process`` runs one event loop per batch);
  ``tasks/``: ``generate_answers``, ``judge``, ``self_instruct``, ``evolve_instructions``; ``prompts/``: their Jinja2 templates.
* ``structured``: pydantic answers, re-asked when invalid; ``novelty``: MinHash novelty for self-instruct.

See docs/synthetic.md.
"""
