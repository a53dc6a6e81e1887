"""``/voice/queue/wait``: the Enqueue wait loop matches an agent or says where the caller stands."""


from tests.voice.driver import ScriptedCall


def test_a_retried_wait_request_hears_the_same_announcement(twilio):
    call = ScriptedCall(twilio, "CA114")
    call.incoming(); call.press("1"); call.press("3")  # noqa: E702
    wait_url = call.find("Enqueue").get("waitUrl")

    def wait(queue_time):
        call.post(wait_url, QueuePosition=1, QueueTime=queue_time, QueueSid="QU1", AvgQueueTime=0)
        return call.said()

    first = wait(12)
    assert "number 1 in line" in first
    assert wait(12) == first          # Twilio's retry of the same request
    assert wait(20) == "" and call.has("Pause")

