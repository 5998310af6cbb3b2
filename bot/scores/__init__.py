"""Scores as plain data: the measures' values (pain, the PSFS answer) and how their change
is judged. Below the views and exports that use them."""
