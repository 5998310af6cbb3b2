"""The texts Ashi ships with, installed as the package `ashi_content` (data, not code).

Each language folder holds messages.toml, questions.toml and guide.toml; a clinic edits a
copy made by `ashi content init DIR` and points ASHI_CONTENT_DIR at it.
"""
