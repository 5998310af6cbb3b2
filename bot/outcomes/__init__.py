"""Outcomes over time: a patient's course on a measure and whether it changed."""
