"""What every feature speaks: replies and buttons, the callback-data codec, the user behind
an update, the questionnaires and their order, and generic rendering. Imports no feature."""
