"""The homeroom organisation the district plan sets up (issue 16): schools' classes and their homeroom teachers per
school year, tiers with their history, workshops with members, member schools and activities."""
