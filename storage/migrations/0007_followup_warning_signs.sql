-- The follow-up question fu_warning_signs was split into fu_breathing, fu_infection,
-- fu_numbness and fu_bleeding: a check-in waiting for it goes on with the first of them.
-- Answers already given to it stay as they are (its label is kept for them).
UPDATE outbox SET step = 'fu_breathing' WHERE kind = 'followup' AND step = 'fu_warning_signs';
