"""The words that steer ``actions/answering.py``: cues in a patient's question that say
which section, item or subject it asks about (regular expressions and measured margins),
kept apart from the decisions that use them."""

from __future__ import annotations

import re

from guide.words import stems

# "that", "it", "those": the message is about what the conversation is already on.
REFERS_BACK = re.compile(r"\b(?:that|it|this|those|these|them|they|one|ones|kind)\b", re.I)

# "what kinds are there?", "different sorts": the types, whatever the classifier guessed;
# not "what sort of tests come next?" (a kind of something else).
KINDS = re.compile(r"\b(?:kinds?|types?|sorts?|varieties|categories|different)\b"
                   r"(?!\s+of\s+(?!calci|lesion|deposit|calcium|them|these|those|it\b)[a-z])", re.I)
# A word that asks for a section itself: a message with one asks that section's question,
# however elliptical ("doctor for kidneys?" after the types).
SECTION_CUES = {
    "specialists": re.compile(r"\b(?:doctors?|specialists?|who|\w+ologists?)\b", re.I),
    "types": re.compile(r"\b(?:kinds?|types?|sorts?)\b", re.I),
    "treatment": re.compile(r"\b(?:treat\w*)\b", re.I),
    "preparation": re.compile(r"\b(?:prepar\w*|prep|ready)\b", re.I),
    "recovery": re.compile(r"\b(?:recover\w*)\b", re.I),
}
# "what other approaches are there apart from surgery?": the rest of the section.
EXCLUDING = re.compile(r"\b(?:apart from|other than|besides|except|instead of|alternatives? to|"
                        r"aside from|rather than)\b", re.I)
OTHERS = re.compile(r"\b(?:other|others|else|alternatives?|options?|approaches)\b", re.I)
# "what are they linked to?" after a type: its causes, which its own text gives.
LINKED = re.compile(r"\b(?:linked|associated|related|connected|tied)\s+(?:to|with)\b|\bcaus(?:e|es|ed)\b"
                    r"|\b(?:come|comes|coming|came)\s+from\b", re.I)
# "what's that called?", "is there a name for it?": asks which type something is.
NAME_ASKED = re.compile(r"\b(?:what(?:'s| is)?|wat)\s+(?:that|this|it)(?:'s)?\s+(?:is\s+)?called\b"
                        r"|\bwhat\s+(?:is|are)\s+(?:that|this|it|they)\s+called\b"
                        r"|\b(?:a|the)\s+name\s+for\b|\bwhat\s+(?:do|would)\s+(?:you|they|doctors)\s+call\b", re.I)
# "is it possible to get calcium in the rotator cuff tendon?": whether a type forms there.
FORMS = re.compile(r"\b(?:get|have|got)\s+(?:calcium|calcifications?|calcium deposits?|deposits)\b"
                    r"|\b(?:form|forms|build up|builds up|develop|occur|appear|collect|calcify)\b", re.I)
# "how do I find a doctor who specialises in this?": the preparation step, not a specialist.
FINDING = re.compile(r"\b(?:find|finding|look(?:ing)? for|search|research|choose|pick|work out)\b", re.I)
# "what are calcifications in the lungs?": asks what a type is, whatever section was guessed.
WHAT_IS = re.compile(r"^(?:.*[.!?,]\s+)?(?:so\s+|and\s+)?(?:what|wat)(?:'s|s| is| are| r)\b", re.I)
# The topic itself, named in general ("who treats calcified lesions?"): not the subject so far.
GENERAL_TOPIC = re.compile(r"\b(?:calcifi\w*|calcified|lesions?|calcium deposits?)\b", re.I)
# "do I have to prepare for them?" after the tests: the question's section, about the item
# so far, answered by that section's item sharing its words (LINKED_ITEM_SCORE: between the
# guide's items the strongest link is 0.47, Diagnostic Assessment -> Prepare for Diagnostic
# Tests; five pairs of the guide reach 0.3 (also physiotherapy in treatment and recovery,
# follow-up and scheduling appointments, metastatic calcifications and medications for
# calcium levels, managing and listing symptoms); the next pairs score 0.25).
ABOUT_THAT = re.compile(r"\b(?:for|about|of|with|to|before|after|from)\s+(?:it|them|that|those|these|this)\b", re.I)
LINKED_ITEM_SCORE = 0.3
# "after the treatment what pain meds can I take?", "and after surgery, exercises too?":
# a question about the time after a treatment is one about recovery, whatever it names.
AFTER_TREATMENT = re.compile(r"\b(?:after|following|post)[\s-]+(?:the\s+|my\s+|her\s+|his\s+|your\s+|a\s+)?"
                             r"(?:calcification\s+|calcium\s+)?"
                             r"(?:surgery|op|operation|procedure|treatment|removal)\b", re.I)
# "any tips for getting ready for the appointment?": the whole preparation section (the
# section is about preparing for the visit), not its step "Schedule Appointments".
READY_FOR_VISIT = re.compile(r"\b(?:(?:ready|prepare|preparing|prep)\b[^.?!]{0,25}\b(?:for|before)|"
                             r"(?:do|know|sort out)\s+(?:beforehand\s+)?before)\s+"
                              r"(?:(?:the|my|an|a|our|his|her|this|that|first)\s+){0,2}"
                              r"(?:appointments?|appt|visit|consultation|consult)\b", re.I)
# How close to the best item overall an item of the section so far must be for an
# elliptical follow-up to stay in that section by meaning alone.
CONTINUE_MARGIN = 0.10
# How far the closest item, in the section so far, must lead the classifier's section for
# a message to stay on the thread by meaning, whatever its words name (sixth-dev.yml: 0.17
# for "she's on loads of tablets, do they need to know all of them?" while preparing).
THREAD_LEAD = 0.10
# "tell me more", "go on, explain that one": a request for more with nothing of its own
# (any other word names what the patient wants more of: "and the 'follow what they tell
# you' one").
MORE_WORDS = frozenset(stems("""tell more about that this it one ones bit explain explained details detail detailed go
    goes going on continue next please pls plz ok okay else further elaborate info information say said read
    rest carry keep thanks thank yes yeah yep sure show give expand"""))
