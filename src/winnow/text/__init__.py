"""Text kernels shared by steps and stages: word splitting, shingles, n-gram counting.

Vectorised over a whole batch of texts (Arrow and numpy); no step or stage logic here, so
``winnow.steps`` and ``winnow.stages`` both import these downward."""
