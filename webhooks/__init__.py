"""HTTP layer for Twilio: signed voice webhooks that render TwiML, and the agents JSON API."""
