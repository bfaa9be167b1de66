"""The evaluation set of issue 17: customer conversations in tests/dialogues/, played
through the signed webhook and scored (`flask dialogues score`, tests/test_dialogues.py)."""
