-- The recipe a trained model version came from (feedback/recipes.py): {"name": ..., "changed": {field: value}}
-- where "changed" lists the settings a researcher changed from the recipe's; '{}' for versions trained
-- before recipes or without one.
ALTER TABLE models ADD COLUMN recipe TEXT NOT NULL DEFAULT '{}';
