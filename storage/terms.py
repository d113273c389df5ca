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
