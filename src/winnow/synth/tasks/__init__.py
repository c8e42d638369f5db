"""The synthetic-data tasks, each a registered step (``winnow steps`` lists them): answers, judge,
self-instruct, Evol-Instruct rewrites. The registry imports them through ``winnow.synth.tasks.*`` module names."""
