"""k-prototypes with kmodes 0.12.2's interface, objective and move rule, in compiled code.

One module per part: `estimator` (`KPrototypes`), `kernels` (the numba passes, `labels_cost`), `encoding`
(numeric / categorical split, category codes), `init` (Cao and Huang initial prototypes), `dissimilarity`
(the objective in NumPy), `errors` (kmodes-compatible error types).
"""

from journeys.kprototypes.dissimilarity import categorical_dissimilarity, dissimilarity, numeric_dissimilarity
from journeys.kprototypes.encoding import categorical_column, encode_categories, fit_categories, split_num_cat
from journeys.kprototypes.errors import KModesArgumentError, NotFittedError
from journeys.kprototypes.estimator import KPrototypes
from journeys.kprototypes.init import init_cao, init_huang
from journeys.kprototypes.kernels import labels_cost

__all__ = [
    "KModesArgumentError",
    "KPrototypes",
    "NotFittedError",
    "categorical_column",
    "categorical_dissimilarity",
    "dissimilarity",
    "encode_categories",
    "fit_categories",
    "init_cao",
    "init_huang",
    "labels_cost",
    "numeric_dissimilarity",
    "split_num_cat",
]
