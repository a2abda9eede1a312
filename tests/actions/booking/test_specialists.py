"""The specialist a booking is for (actions/booking/specialists.py)."""

from actions.booking.specialists import specialist_from_context
from tests.actions.booking.test_flow import tracker


def test_the_specialist_comes_from_what_the_conversation_was_about(guide):
    def context(**slots):
        return specialist_from_context(guide, tracker("book me in", "request_appointment", slots))

    assert context(location="kidney") == "Nephrologist"
    assert context(lesion_type="atherosclerotic_calcifications") == "Cardiologist"
    assert context(item="specialists:rheumatologist") == "Rheumatologist"
    assert context(item="types:brain_calcifications") is None  # the guide names no one for the brain
    assert context(cause="cancer") == "Oncologist"
    assert context() is None
