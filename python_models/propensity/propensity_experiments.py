"""The spec's earlier analysis' experiments (tag `experiments`, `make experiments`): sequence length x page encoding x model."""

from journeys.propensity.dbt import build_propensity_experiments


def model(dbt, session):
    dbt.ref("journeys_environment")  # runs after the check that journeys is installed and compatible
    return build_propensity_experiments(
        features=dbt.ref("contact_features").df(),
        category_codes=dbt.ref("url_category_codes").df(),
        settings=dbt.config.meta_get("propensity"),
    )
