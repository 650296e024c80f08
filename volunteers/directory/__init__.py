"""The coordinators' volunteer directory: search, profiles, evidence checks, specials' details, and
CSV import and export (blueprint ``directory``)."""
