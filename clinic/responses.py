"""Response names more than one service recognises.

The red-flag advice is shown differently on every channel (a red alert with a call link
in the widget, first in the transcript), so Rasa's safety net, the action that writes it,
the socket.io channel and the widget's history must agree on its name: it is written here.
"""

EMERGENCY_RESPONSE = "utter_emergency"

# "What should I do if I ever get chest pain?": the NLU's red-flag matcher names the flags
# under this parse-data key, and the actions send the plan response before their reply.
RED_FLAG_PLAN_KEY = "red_flag_plan"
EMERGENCY_PLAN_RESPONSE = "utter_emergency_plan"
