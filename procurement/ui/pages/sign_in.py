"""Page script for sign-in and first-run setup; its code is `procurement.ui.views.sign_in` (compiled once)."""

from procurement.ui.views import sign_in

sign_in.render()
