"""`python -m journeys` runs the command-line interface."""

from journeys.cli import main

raise SystemExit(main())
