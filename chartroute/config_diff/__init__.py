"""Preview a change to the practice file as what it would do to people's work, writing nothing.

``replay`` classifies and routes every stored chart under one practice file the way the next
sync would (the pure rules, router and lifecycle over facts read from the store, holders kept);
``compare`` sets two replays side by side: items that would move from whom to whom, blockers
that would appear or disappear, queues that would pass a person's daily capacity, and where new
items would go. ``chartroute config diff`` prints it.
"""
