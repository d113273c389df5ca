"""The words stored values are made of, named once: the axes every score and rating is on, and the choices a
vote (or a pair's known answer) makes, in pair terms (a = output_a, b = output_b).

These are names for values already stored (vote rows, the JSON keys of stage files and reports): changing one
changes what is written and what old rows mean.
"""

CONCEPT, CONTENT = "concept", "content"
AXES = (CONCEPT, CONTENT)  # does the text show the concept; does it get the content right

A, B, TIE, BOTH_BAD = "a", "b", "tie", "both_bad"
CHOICES = (A, B, TIE, BOTH_BAD)  # a tie and "both bad" say nothing about which text is better

# an output's strategy where no prompting strategy of models.strategies wrote it
MODEL_PREFIX = "model:"  # model:<version>: a trained version's answer to the plain prompt
HUMAN, CORRECTION = "human", "correction"  # the model and strategy of an annotator's written answer, stored with the vote

# the prompting strategies' names, stored with every output: models.strategies is their registry; feedback's pair
# plans and recipes, a room below it, name them from here
WEAK, STRONG_BASE, STRONG_INSTRUCTED, ICL_REFINE = "weak", "strong-base", "strong-instructed", "icl-refine"
INFER_AND_RESPOND, ASK_TO_IMPROVE, ICL_RESTYLE, WEAK_OPENING = "infer-and-respond", "ask-to-improve", "icl-restyle", "weak-opening"
