"""Customer-journey analytics on a warehouse: synthetic export, segments, propensity, service, report.

Importing the package prepares the process once, before any of its modules can load a heavy library.
"""

import os

# TensorFlow reads these when it loads: its C++ logging (oneDNN notices, tf.data's NodeDef errors that change
# nothing) stays out of the build's output, and oneDNN's reordered float sums out of the models' results.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# dbt-duckdb runs independent Python models (contact_segments, purchase_propensity) on parallel threads of one
# process, and each first imports this package: what runs here runs once, on one thread, while the other waits
# on the package's import lock. So the libraries whose first use touches process-wide state initialise here,
# one at a time, whichever model starts first:
# - scikit-learn: two threads importing it at once can see its circular imports half done ("cannot import name
#   'clone' from partially initialized module");
# - numba: its first compiler context registers Python's exception types by iterating builtins.__dict__, which
#   a pybind11 extension loading on the other thread (TensorFlow's, google-re2's) writes to ("dictionary changed
#   size during iteration").
import sklearn.base  # noqa: F401
from numba.core.registry import cpu_target

cpu_target.target_context  # noqa: B018 - creating it runs numba's one-time registration

__version__ = "0.1.0"
