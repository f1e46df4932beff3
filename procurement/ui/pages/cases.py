"""Page script for the case list; its code is `procurement.ui.views.cases` (compiled once)."""

from procurement.ui.views import cases

cases.render()
