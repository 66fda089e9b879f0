"""Customer-journey analytics on a warehouse: synthetic export, segments, propensity, service, report."""

# dbt-duckdb runs independent Python models (contact_segments, purchase_propensity) on parallel threads of one
# process. Two threads importing scikit-learn at once can see its circular imports half done ("cannot import
# name 'clone' from partially initialized module"); importing it here, under this package's import lock,
# makes the second thread wait for a complete import.
import sklearn.base  # noqa: F401

__version__ = "0.1.0"
