"""Global stages: every step that needs a pass over the whole dataset (exact and MinHash dedup,
decontamination, mixing), with the work-file helpers their phases share (``workfiles``)."""
