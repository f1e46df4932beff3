"""Sharing rule packs between organisations: zip bundles (`bundles`), packs installed in the
database (`installed`) and re-assessment of stored cases under another pack (`reassess`)."""
