"""Tests of installing, running and operating the app (issue 16)."""
