"""IVR: language choice, main menu and business hours, as plain decisions from a definition file."""
