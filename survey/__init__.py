"""Post-call keypad survey: the versioned definition and the question-by-question flow."""
