"""Ward panels and London-wide specialist groups (issue #23): the known local volunteers a sergeant calls
on first, and the groups whose leads vouch for their members' competence."""
