"""Response names more than one service recognises.

The red-flag advice is shown differently on every channel (a red alert with a call link
in the widget, first in the transcript), so Rasa's safety net, the action that writes it,
the socket.io channel and the widget's history must agree on its name: it is written here.
"""

EMERGENCY_RESPONSE = "utter_emergency"
