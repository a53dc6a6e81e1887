"""A local stand-in for Twilio Voice that drives the app through its real webhooks."""
