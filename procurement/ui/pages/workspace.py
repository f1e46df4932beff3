"""Page script for the case workspace; its code is `procurement.ui.views.workspace` (compiled once)."""

from procurement.ui.views import workspace

workspace.render()
