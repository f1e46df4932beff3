"""Page script for administration; its code is `procurement.ui.views.admin` (compiled once)."""

from procurement.ui.views import admin

admin.render()
