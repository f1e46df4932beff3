"""Page script for rule packs; its code is `procurement.ui.views.packs` (compiled once)."""

from procurement.ui.views import packs

packs.render()
