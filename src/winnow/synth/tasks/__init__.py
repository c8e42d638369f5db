"""The synthetic-data tasks, each a registered step (``winnow steps`` lists them): answers, judge,
self-instruct, Evol-Instruct rewrites, Q&A and summaries from documents,
multi-turn continuation and persona-driven prompts. The registry imports them through ``winnow.synth.tasks.*`` module names."""
