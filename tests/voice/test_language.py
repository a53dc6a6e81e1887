"""``/voice/language``: the language choice forgives silence and wrong keys, then defaults."""


from tests.voice.driver import ScriptedCall


def test_language_silence_three_times_defaults_to_english(twilio):
    call = ScriptedCall(twilio, "CA106")
    call.incoming()
    call.press("")
    assert "did not hear" in call.said()
    call.press("")
    call.press("")
    assert "For billing and payments, press 1." in call.said()

