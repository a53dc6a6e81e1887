"""Adapters to services the app calls out to (today: Twilio's REST API for follow-ups).

They implement ports the domain declares (``survey.followups.Sender``) and are wired in by
the composition root (``aftercall/``): the domain never imports them, nor twilio's HTTP code.
"""
