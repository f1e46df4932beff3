"""Page script for the review queue; its code is `procurement.ui.views.review` (compiled once)."""

from procurement.ui.views import review

review.render()
