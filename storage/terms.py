"""The words stored values are made of, named once: the axes every score and rating is on, and the choices a
vote (or a pair's known answer) makes, in pair terms (a = output_a, b = output_b).

These are names for values already stored (vote rows, the JSON keys of stage files and reports): changing one
changes what is written and what old rows mean.
"""

CONCEPT, CONTENT = "concept", "content"
AXES = (CONCEPT, CONTENT)  # does the text show the concept; does it get the content right

A, B, TIE, BOTH_BAD = "a", "b", "tie", "both_bad"
CHOICES = (A, B, TIE, BOTH_BAD)  # a tie and "both bad" say nothing about which text is better
