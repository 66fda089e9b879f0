"""Checks, before any other Python model runs, that dbt's Python environment has the `journeys` package at a
version this dbt package works with, and says in one line how to install it otherwise."""

import re
import sys


def model(dbt, session):
    required = dbt.config.get("meta")["journeys_version"]
    problem = journeys_problem(required)
    if problem:
        raise RuntimeError(problem)
    import journeys

    return session.sql(f"select '{journeys.__version__}' as journeys_version, '{required}' as required_version, "
                       f"'{sys.version.split()[0]}' as python_version")


def journeys_problem(required: str) -> str | None:
    """What is wrong with the installed journeys, in one line that says how to install it; None when nothing."""
    install = (f"install it into the Python environment that runs dbt ({sys.executable}): "
               "pip install -c dbt_packages/customer_journeys/constraints.txt ./dbt_packages/customer_journeys")
    try:
        import journeys
    except ImportError as error:
        return (f"customer_journeys needs the Python package journeys {required}, which cannot be imported "
                f"({error}); {install}")
    if not compatible(journeys.__version__, required):
        return (f"customer_journeys {required} needs the Python package journeys {required} (or a later "
                f"{'.'.join(required.split('.')[:2])}.x), but {journeys.__version__} is installed; {install}")
    return None


def compatible(installed: str, required: str) -> bool:
    """The same major and minor version, at least the required patch."""
    have, need = ([int(re.match(r"\d*", part).group() or 0) for part in (version.split(".") + ["0", "0"])[:3]]
                  for version in (installed, required))
    return have[:2] == need[:2] and have[2] >= need[2]
