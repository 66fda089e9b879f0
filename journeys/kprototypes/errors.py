"""The error types of `KPrototypes`: kmodes 0.12.2 asserts where these are raised, so each is also an
AssertionError and callers written for kmodes or for scikit-learn keep working."""

from sklearn.exceptions import NotFittedError as SklearnNotFittedError


class NotFittedError(SklearnNotFittedError, AssertionError):
    """Prediction before `fit`: scikit-learn's error type, and the AssertionError kmodes 0.12.2 raises."""


class KModesArgumentError(ValueError, AssertionError):
    """A bad argument that kmodes 0.12.2 rejects with an `assert`: catchable as either type."""
