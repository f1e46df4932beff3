"""`python -m procurement` runs the same CLI as the `procurement` command."""

from procurement.cli import main

raise SystemExit(main())
