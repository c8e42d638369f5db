"""A step module as a wing writes one (``winnow.synth``): it imports its client library at its top, a
library no one has installed. ``tests/test_extras.py`` declares it in an ``OptionalModule``."""

from __future__ import annotations

import absent_wing_client  # noqa: F401  (not installed anywhere: the point of this module)

from winnow.steps.base import Step
from winnow.steps.registry import register


@register
class WingStep(Step):
    name = "test_wing_step"
