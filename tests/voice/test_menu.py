"""``/voice/menu``: keys pick a queue; wrong keys and silence re-prompt, then the default queue."""

from sqlalchemy import select

from store.calls import Call, QueueEntry
from tests.voice.driver import ScriptedCall


def test_wrong_keys_and_silence_reprompt_then_default_queue(twilio, database):
    call = ScriptedCall(twilio, "CA105")
    call.incoming()
    call.press("2")                      # Russian
    call.press("7")
    assert "Извините, такого варианта нет." in call.said() and call.has("Gather")
    call.press("")
    assert "не услышала" in call.said()
    call.press("#")
    enqueue = call.find("Enqueue")
    assert enqueue.text == "general" and "первым свободным оператором" in call.said()
    with database.session() as s:
        entry = s.scalar(select(QueueEntry))
        assert (entry.queue, entry.reason) == ("general", "default")
        assert s.get(Call, "CA105").language == "ru"

