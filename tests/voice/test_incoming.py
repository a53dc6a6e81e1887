"""``/voice/incoming``: the greeting and language choice, or the closing message after hours."""


from store.calls import Call
from tests.voice.driver import ScriptedCall


def test_after_hours_callers_hear_the_closing_message(database, tmp_path):
    from aftercall.app import create_app
    from aftercall.config import ROOT
    from tests.conftest import TwilioClient, make_settings
    text = (ROOT / "ivr" / "menu.toml").read_text(encoding="utf-8")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        text = text.replace(f'{day} = ["00:00-24:00"]', f"{day} = []")
    menu = tmp_path / "menu.toml"
    menu.write_text(text, encoding="utf-8")
    app = create_app(make_settings(database, MENU_FILE=str(menu)), db=database)
    call = ScriptedCall(TwilioClient(app.test_client()), "CA112")
    call.incoming()
    assert "We are closed" in call.said() and call.has("Hangup") and not call.has("Gather")
    with database.session() as s:
        assert s.get(Call, "CA112").after_hours

